"""Context for every page: which upstream answers, whether sign-up is open, the
user's theme."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from glmweb.accounts.preferences import preferences_of


def site(request: HttpRequest) -> dict[str, Any]:
    """Return the site-wide flags base.html shows (never the API key itself)."""
    preferences = preferences_of(request)
    return {
        "theme": preferences.theme if preferences else "system",
        "uses_simulator": not settings.ZHIPUAI_API_KEY,
        "allow_signup": settings.GLMWEB_ALLOW_SIGNUP,
    }
