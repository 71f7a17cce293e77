"""When, and how long to wait, before resending a failed request (pure, shared).

The backoff is the official SDK's: before retry k (1, 2, 3, ...) wait
min(base * 2**k, RETRY_MAX_DELAY) scaled by a random factor in (0.75, 1], i.e. about
1 s, 2 s, 4 s with the default base of 0.5 s. Unlike the SDK we honour Retry-After,
capped so a server asking for an hour cannot park a chat reply (or a Celery worker)
that long; the error keeps the server's full value in `retry_after` for callers that
can reschedule instead.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Statuses worth resending unchanged: limits and server/gateway failures. Other 4xx mean
# the request itself is wrong; 408/409 (which the SDK also retries) are not sent by
# the platform.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_BASE_DELAY = 0.5  # seconds; tests build clients with a tiny base instead
RETRY_MAX_DELAY = 8.0
RETRY_AFTER_CAP = 20.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Return the wait a Retry-After header asks for, in seconds, or None if absent/bad.

    Accepts delta-seconds ("2", also "1.5") and an HTTP date; a date in the past is 0.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 850/asctime forms carry no zone; HTTP means GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def retry_delay(
    retry: int, retry_after: float | None, base: float = RETRY_BASE_DELAY
) -> float:
    """Return the seconds to wait before retry number `retry` (1 for the first)."""
    if retry_after is not None:
        return min(retry_after, RETRY_AFTER_CAP)
    backoff = min(base * 2**retry, RETRY_MAX_DELAY)
    return backoff * (1.0 - 0.25 * random.random())  # noqa: S311 (jitter, not crypto)


def should_retry(retryable: bool, retry: int, max_retries: int) -> bool:
    """Return whether failed attempt number `retry` (0 for the first) may be resent."""
    return retryable and retry < max_retries


def retryable_status(status: int, should_retry_header: str | None) -> bool:
    """Return whether a response with `status` may be resent unchanged.

    The platform's `x-should-retry: true|false` header, when present, overrides the
    status rule (the SDK honours it too).
    """
    if should_retry_header is not None:
        flag = should_retry_header.strip().lower()
        if flag in ("true", "false"):
            return flag == "true"
    return status in RETRY_STATUSES
