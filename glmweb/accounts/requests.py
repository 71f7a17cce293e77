"""Request types for views behind a log-in check (for the type checker only).

Django types `request.user` as `User | AnonymousUser`; past `login_required` (or the
chat API's own check) it is always an account, and these say so once instead of an
assertion in every view.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedRequest(HttpRequest):
    """A request whose user has logged in."""

    user: User
