"""The connection page: which upstream answers replies and, with a key set, whether
the platform accepts it, found with the cheapest call there is (one token from the
title model). The key itself never reaches the page."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from glmweb import zhipu


@dataclass(frozen=True)
class KeyCheck:
    outcome: str  # "works", "refused" or "unreachable"
    summary: str  # in the user's language
    platform_message: str = ""  # the platform's own words, when it refused


def check_key() -> KeyCheck:
    """Ask the platform for one token; say whether the key works."""
    try:
        zhipu.chat(
            [{"role": "user", "content": "ping"}],
            model=settings.GLMWEB_TITLE_MODEL,
            max_retries=0,
            max_tokens=1,
        )
    except zhipu.GLMRejected as exc:
        return KeyCheck(
            "refused",
            exc.user_message(get_language() or "en"),
            # The client already took the key out of it, cleaned and capped it.
            exc.platform_message,
        )
    except zhipu.GLMError as exc:
        return KeyCheck("unreachable", exc.user_message(get_language() or "en"))
    return KeyCheck("works", _("The platform accepted the key."))


@login_required
@require_http_methods(["GET", "POST"])
def connection(request: HttpRequest) -> HttpResponse:
    """GET shows the upstream; POST (the Check button) also checks the key."""
    has_key = bool(settings.ZHIPUAI_API_KEY)
    result = check_key() if request.method == "POST" and has_key else None
    return render(
        request,
        "registration/connection.html",
        {"has_key": has_key, "result": result},
    )
