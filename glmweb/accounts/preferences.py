"""A user's theme and language: the form that changes them, the view that saves them,
and the middleware that applies the saved language on every request (so a user reads
the app in their language on any device, whatever the browser asks for)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chat.models import Preferences

# A day: a change is written through, so this only bounds how long an unused entry
# stays.
_CACHE_SECONDS = 24 * 3600


class PreferencesForm(forms.Form):
    theme = forms.ChoiceField(choices=Preferences.Theme.choices)
    language = forms.ChoiceField(choices=settings.LANGUAGES)


def _cache_key(user_id: int) -> str:
    return f"glmweb:preferences:{user_id}"


def preferences_of(request: HttpRequest) -> Preferences | None:
    """Return the signed-in user's saved preferences (None: the defaults), once per
    request.

    Kept in Django's cache (Redis with REDIS_URL, so every process sees a change at
    once) rather than read on every request: the chat API is called often, and its
    query counts are held by tests. Saving replaces the cached copy.
    """
    if not hasattr(request, "_preferences"):
        user = getattr(request, "user", None)
        found = None
        if user is not None and user.is_authenticated:
            found = _cached_preferences(user.pk)
        request._preferences = found  # type: ignore[attr-defined]
    return request._preferences  # type: ignore[attr-defined]


def _cached_preferences(user_id: int) -> Preferences | None:
    cached = cache.get(_cache_key(user_id))
    if cached is not None:
        return cached or None
    found = Preferences.objects.filter(user_id=user_id).first()
    # False marks "none saved", which the cache cannot hold as None.
    cache.set(_cache_key(user_id), found or False, _CACHE_SECONDS)
    return found


@receiver(user_logged_in)
def _load_at_log_in(sender: type, user: Any, **kwargs: object) -> None:
    # Read while logging in, so the requests that follow find it in the cache.
    _cached_preferences(user.pk)


@receiver(post_delete, sender=Preferences)
def _forget_deleted(sender: type, instance: Preferences, **kwargs: object) -> None:
    # A deleted account's id may be given again (SQLite reuses the highest rowid).
    cache.delete(_cache_key(instance.user_id))


@require_POST
def save_preferences(request: HttpRequest) -> HttpResponse:
    """Save the theme and language (signed in: on the account; otherwise the language
    only, in the cookie Django's own language switch uses), then go back."""
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("That theme or language is not available."))
    theme, language = form.cleaned_data["theme"], form.cleaned_data["language"]
    if request.user.is_authenticated:
        saved, _created = Preferences.objects.update_or_create(
            user=request.user, defaults={"theme": theme, "language": language}
        )
        cache.set(_cache_key(request.user.pk), saved, _CACHE_SECONDS)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


class PreferencesMiddleware:
    """Speak the signed-in user's saved language (after LocaleMiddleware, which picked
    the browser's, and AuthenticationMiddleware, which found the user)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        preferences = preferences_of(request)
        if preferences and preferences.language:
            translation.activate(preferences.language)
            request.LANGUAGE_CODE = preferences.language
        return self.get_response(request)
