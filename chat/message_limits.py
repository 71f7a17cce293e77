"""How many replies a user may start per minute (GLMWEB_MESSAGES_PER_MINUTE): sends,
regenerations and edits, each of which calls the platform on the owner's key.

Counted in this process, in memory (a sliding window per user), because the check sits
on the reply path, which does no blocking I/O (chat/dbpool.py): a user whose sockets
are spread over N server processes may start up to N times the limit. A refused frame
gets an `error` frame with code `rate_limited` (docs/websocket.md); nothing is saved,
and the page keeps the typed text.
"""

from __future__ import annotations

import time
from collections import deque

from django.conf import settings

WINDOW_SECONDS = 60.0

_starts: dict[int, deque[float]] = {}


def allow(user_id: int) -> bool:
    """Count a reply start for the user and return whether it is within the limit
    (a refused one is not counted)."""
    now = time.monotonic()
    starts = _starts.setdefault(user_id, deque())
    while starts and now - starts[0] >= WINDOW_SECONDS:
        starts.popleft()
    if len(starts) >= settings.GLMWEB_MESSAGES_PER_MINUTE:
        return False
    starts.append(now)
    if len(_starts) > 10_000:  # forget users idle for a whole window
        for idle in [u for u, s in _starts.items() if not s or now - s[-1] >= 60]:
            del _starts[idle]
    return True


def forget() -> None:
    """Drop every count (tests)."""
    _starts.clear()
