"""Log-in and sign-up attempts, counted per account and per address.

A probe sent 30 wrong passwords in 19 s, all answered 200, and then the right one
worked. Now a failed log-in counts against the account (the username typed) and the
client's address, a sign-up attempt against the address; past a limit within the
window, the form is refused (429) with a message saying when to try again, before
the password is even checked, right or wrong.

Why a cache-based limiter and not django-axes: the counts are a few keys with an expiry
in Django's cache (LocMemCache in one process; Redis, shared by every process, with
REDIS_URL), one small module, no new tables, middleware or authentication backend;
axes brings all three to answer the same question, and its lockout records are not
needed (failures are logged here). The cache is also what the chat's message limit
would need across processes.

Addresses are REMOTE_ADDR as the server sees it (Daphne's --proxy-headers puts the
client's address there behind a proxy). Usernames are compared case-insensitively
and stored hashed.
"""

from __future__ import annotations

import hashlib
import logging
import math

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)

_PREFIX = "glmweb:throttle:"


def _key(kind: str, value: str) -> str:
    return _PREFIX + kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:32]


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _count(key: str, window: float) -> int:
    # add() starts the window (a no-op when the key exists); incr() is atomic in
    # Redis and under LocMemCache's lock.
    cache.add(key, 0, timeout=math.ceil(window))
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=math.ceil(window))
        return 1


def _over(key: str, limit: int) -> bool:
    return int(cache.get(key) or 0) >= limit


def login_blocked(request: HttpRequest, username: str) -> bool:
    """Return whether this log-in attempt must be refused unchecked."""
    return _over(
        _key("login-account", username.strip().lower()),
        settings.GLMWEB_LOGIN_FAILURES_PER_ACCOUNT,
    ) or _over(
        _key("login-address", client_address(request)),
        settings.GLMWEB_LOGIN_FAILURES_PER_ADDRESS,
    )


def note_login_failure(request: HttpRequest, username: str) -> None:
    """Count a failed log-in against the account and the address."""
    window = settings.GLMWEB_LOGIN_WINDOW_SECONDS
    account = _count(_key("login-account", username.strip().lower()), window)
    address = _count(_key("login-address", client_address(request)), window)
    if account == settings.GLMWEB_LOGIN_FAILURES_PER_ACCOUNT or (
        address == settings.GLMWEB_LOGIN_FAILURES_PER_ADDRESS
    ):
        logger.warning(
            "log-in throttled: %d failures for one account, %d from %s",
            account,
            address,
            client_address(request),
        )


def signup_blocked(request: HttpRequest) -> bool:
    """Count a sign-up attempt from this address; return whether it is one too many."""
    key = _key("signup-address", client_address(request))
    return (
        _count(key, settings.GLMWEB_SIGNUP_WINDOW_SECONDS)
        > settings.GLMWEB_SIGNUPS_PER_ADDRESS
    )


def refusal_text(window_seconds: float) -> str:
    """Return the refusal, in the active language: too many attempts, wait."""
    minutes = max(1, math.ceil(window_seconds / 60))
    return ngettext(
        "Too many attempts. Please wait %(minutes)d minute and try again.",
        "Too many attempts. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
