"""The pure retry policy: which failures are resent, and how long to wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from glmweb.zhipu import retry


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retry_status_transient_is_retryable(status: int) -> None:
    assert retry.retryable_status(status, None)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 501])
def test_retry_status_permanent_is_not_retryable(status: int) -> None:
    assert not retry.retryable_status(status, None)


def test_retry_after_seconds_are_parsed() -> None:
    assert retry.parse_retry_after("2") == 2.0
    assert retry.parse_retry_after(" 1.5 ") == 1.5
    assert retry.parse_retry_after("-4") == 0.0


def test_retry_after_http_date_is_parsed_relative_to_now() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert retry.parse_retry_after(header, now=now) == 7.0
    past = format_datetime(now - timedelta(hours=1), usegmt=True)
    assert retry.parse_retry_after(past, now=now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "nan"])
def test_retry_after_garbage_is_ignored(value: str | None) -> None:
    assert retry.parse_retry_after(value) is None


def test_retry_delay_honours_retry_after_with_a_cap() -> None:
    assert retry.retry_delay(1, 3.0) == 3.0
    assert retry.retry_delay(1, 3600.0) == retry.RETRY_AFTER_CAP


def test_retry_delay_backs_off_exponentially_with_jitter() -> None:
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (6, retry.RETRY_MAX_DELAY)]:
        delays = {retry.retry_delay(attempt, None, 0.5) for _ in range(50)}
        assert all(0.75 * full <= d <= full for d in delays)
        assert len(delays) > 1  # jittered, so clients do not retry in lockstep


def test_retry_delay_scales_with_the_base() -> None:
    assert retry.retry_delay(1, None, 0.001) <= 0.002


def test_retry_should_retry_stops_at_max_retries() -> None:
    assert retry.should_retry(True, 0, 1)
    assert not retry.should_retry(True, 1, 1)
    assert not retry.should_retry(False, 0, 3)
