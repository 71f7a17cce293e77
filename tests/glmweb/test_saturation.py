"""Event-loop lag (glmweb/saturation.py): a loop kept busy is reported saturated by
the monitor and the health check, with one warning per minute while it lasts."""

from __future__ import annotations

import asyncio
import logging
import os
import time

import pytest

from glmweb import saturation


async def block_loop(times: int, seconds: float) -> None:
    """Hold the running loop `times` times for `seconds`, as a flood of frames does,
    letting every other task (the monitor) run once in between."""
    for _ in range(times):
        time.sleep(seconds)  # noqa: ASYNC251 - the point: the loop is held
        await asyncio.sleep(0.002)


async def run_monitor(monitor: saturation.LagMonitor, work) -> None:
    task = asyncio.get_running_loop().create_task(
        saturation.amonitor_lag(monitor, interval=0.02)
    )
    try:
        await work
    finally:
        task.cancel()


def saturation_warnings(caplog) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "glmweb.saturation" and r.levelno == logging.WARNING
    ]


async def test_lag_monitor_calls_a_blocked_loop_saturated_and_warns_once_a_minute(
    caplog,
):
    now = [1000.0]
    monitor = saturation.LagMonitor(50.0, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="glmweb.saturation")

    await run_monitor(monitor, asyncio.sleep(0.1))
    assert monitor.saturated is False and monitor.lag_ms < 50

    await run_monitor(monitor, block_loop(12, 0.1))
    assert monitor.saturated is True
    assert monitor.lag_ms >= 50
    # Saturated for a dozen samples, all within the same minute: one warning.
    assert len(saturation_warnings(caplog)) == 1
    assert "saturated" in saturation_warnings(caplog)[0].getMessage()

    now[0] += 59
    await run_monitor(monitor, block_loop(3, 0.1))
    assert len(saturation_warnings(caplog)) == 1
    now[0] += 2  # a minute after the first warning, still saturated
    await run_monitor(monitor, block_loop(3, 0.1))
    assert len(saturation_warnings(caplog)) == 2

    # The loop free again: after a window of prompt wake-ups it is not saturated.
    await run_monitor(monitor, asyncio.sleep(0.3))
    assert monitor.saturated is False


def test_healthz_reports_pid_and_saturation_of_a_blocked_loop(
    client, db, monkeypatch, settings
):
    settings.GLMWEB_SATURATION_LAG_MS = 50.0
    monkeypatch.setattr(saturation, "_monitor", None)
    idle = client.get("/healthz").json()
    assert idle == {
        "ok": True,
        "pid": os.getpid(),
        "lag_ms": None,
        "saturated": False,
        "threshold_ms": None,
    }

    async def busy() -> None:
        task = saturation.start_monitor(asyncio.get_running_loop(), interval=0.02)
        await asyncio.sleep(0.1)
        await block_loop(12, 0.1)
        task.cancel()

    asyncio.run(busy())
    report = client.get("/healthz").json()
    assert report["pid"] == os.getpid()
    assert report["saturated"] is True
    assert report["lag_ms"] >= 50
    assert report["threshold_ms"] == 50.0


@pytest.mark.parametrize("lag", [0.0, 49.9])
def test_lag_monitor_under_its_threshold_is_not_saturated(lag, caplog):
    monitor = saturation.LagMonitor(50.0)
    for _ in range(saturation.WINDOW):
        monitor.observe(lag)
    assert monitor.saturated is False
    assert saturation_warnings(caplog) == []
