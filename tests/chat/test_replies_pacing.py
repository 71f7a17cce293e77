"""The hub's frame interval: the configured tick while the loop keeps up, stretched
while it lags, never past the ceiling, and back once the loop catches up."""

from __future__ import annotations

import pytest

from chat.replies.pacing import FramePace


def test_frame_interval_is_the_tick_while_the_loop_keeps_up():
    pace = FramePace(0.035, 0.1)
    for _ in range(50):
        pace.woke(0.001)  # timer jitter only
    assert pace.interval() == pytest.approx(0.035)


def test_frame_interval_stretches_while_the_loop_lags_up_to_the_ceiling():
    pace = FramePace(0.035, 0.1)
    pace.woke(0.02)
    stretched = pace.interval()
    assert 0.035 < stretched < 0.1
    for _ in range(50):
        pace.woke(0.5)
    assert pace.interval() == pytest.approx(0.1)


def test_frame_interval_returns_to_the_tick_when_the_lag_ends():
    pace = FramePace(0.035, 0.1)
    for _ in range(20):
        pace.woke(0.2)
    for _ in range(50):
        pace.woke(0.0)
    assert pace.interval() == pytest.approx(0.035)


def test_frame_interval_keeps_the_tick_for_a_few_streams():
    pace = FramePace(0.035, 0.1)
    assert pace.interval(streams=20) == pytest.approx(0.035)


def test_frame_interval_stretches_with_many_streams_up_to_the_ceiling():
    pace = FramePace(0.035, 0.1)
    hundred = pace.interval(streams=100)
    assert 0.035 < hundred < 0.1
    assert pace.interval(streams=150) > hundred
    assert pace.interval(streams=5000) == pytest.approx(0.1)


def test_frame_interval_takes_the_larger_of_the_lag_and_the_stream_stretch():
    pace = FramePace(0.035, 0.1)
    for _ in range(50):
        pace.woke(0.5)
    assert pace.interval(streams=100) == pytest.approx(0.1)
