"""A user's theme and language: the form that changes them, the view that saves them,
and the middleware that applies the saved language on every request (so a user reads
the app in their language on any device, whatever the browser asks for)."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chat.models import Preferences


class PreferencesForm(forms.Form):
    theme = forms.ChoiceField(choices=Preferences.Theme.choices)
    language = forms.ChoiceField(choices=settings.LANGUAGES)


def preferences_of(request: HttpRequest) -> Preferences | None:
    """Return the signed-in user's saved preferences (None: the defaults), once per
    request."""
    if not hasattr(request, "_preferences"):
        user = getattr(request, "user", None)
        found = (
            Preferences.objects.filter(user=user).first()
            if user is not None and user.is_authenticated
            else None
        )
        request._preferences = found  # type: ignore[attr-defined]
    return request._preferences  # type: ignore[attr-defined]


@require_POST
def save_preferences(request: HttpRequest) -> HttpResponse:
    """Save the theme and language (signed in: on the account; otherwise the language
    only, in the cookie Django's own language switch uses), then go back."""
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("That theme or language is not available."))
    theme, language = form.cleaned_data["theme"], form.cleaned_data["language"]
    if request.user.is_authenticated:
        Preferences.objects.update_or_create(
            user=request.user, defaults={"theme": theme, "language": language}
        )
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
