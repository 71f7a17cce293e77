"""Event-loop lag: whether this web process is saturated, for the log and /healthz.

A process whose event loop cannot keep up shows it first as lateness: a sleeper that
asked to wake in 250 ms wakes later, because every frame, accept and request ahead of
it in the loop's queue runs first. `amonitor_lag()` measures that lateness on the
running loop; the median of the last few samples over GLMWEB_SATURATION_LAG_MS means
saturated, which is logged as a warning at most once a minute while it lasts (so an
operator learns to add a process before users feel the wait) and reported by the
health check (glmweb/views.py). Measured cost: one timer per 250 ms.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections import deque
from collections.abc import Callable
from typing import TypedDict

logger = logging.getLogger(__name__)

SAMPLE_SECONDS = 0.25
# The median of 8 samples (about 2 s): one slow callback (a GC pause, a big page)
# is not saturation; a loop late on most wake-ups is.
WINDOW = 8
WARN_EVERY_SECONDS = 60.0


class LagReport(TypedDict):
    lag_ms: float | None
    saturated: bool
    threshold_ms: float | None


class LagMonitor:
    """The lag samples of one event loop and the saturation rule over them."""

    def __init__(
        self,
        threshold_ms: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        warn_every: float = WARN_EVERY_SECONDS,
    ) -> None:
        self.threshold_ms = threshold_ms
        self.clock = clock
        self.warn_every = warn_every
        self.samples: deque[float] = deque(maxlen=WINDOW)
        self.saturated = False
        self._warned_at: float | None = None

    @property
    def lag_ms(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    def observe(self, lag_ms: float) -> None:
        """Record one wake-up's lateness; log a warning when saturated, at most once
        per `warn_every` seconds."""
        self.samples.append(lag_ms)
        lag = statistics.median(self.samples)
        self.saturated = lag >= self.threshold_ms
        if not self.saturated:
            return
        now = self.clock()
        if self._warned_at is None or now - self._warned_at >= self.warn_every:
            self._warned_at = now
            logger.warning(
                "web process saturated: its event loop runs %.0f ms late "
                "(threshold %.0f ms); replies wait behind each other, add a process "
                "(GLMWEB_WEB_PROCESSES, docs/performance.md)",
                lag,
                self.threshold_ms,
            )

    def report(self) -> LagReport:
        lag = self.lag_ms
        return {
            "lag_ms": None if lag is None else round(lag, 1),
            "saturated": self.saturated,
            "threshold_ms": self.threshold_ms,
        }


_monitor: LagMonitor | None = None


async def amonitor_lag(monitor: LagMonitor, interval: float = SAMPLE_SECONDS) -> None:
    """Sleep `interval` at a time forever, feeding `monitor` how late each wake-up
    was."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time() + interval
        await asyncio.sleep(interval)
        monitor.observe(max(0.0, loop.time() - asked) * 1000)


def start_monitor(
    loop: asyncio.AbstractEventLoop, interval: float = SAMPLE_SECONDS
) -> asyncio.Task[None]:
    """Start this process's lag monitor on `loop` (the web server's); health()
    reports it from then on."""
    from django.conf import settings

    global _monitor
    _monitor = LagMonitor(settings.GLMWEB_SATURATION_LAG_MS)
    return loop.create_task(amonitor_lag(_monitor, interval))


def health() -> LagReport:
    """Return this process's lag report (lag None when no monitor runs here, as
    under `manage.py runserver` or the test client)."""
    if _monitor is None:
        return {"lag_ms": None, "saturated": False, "threshold_ms": None}
    return _monitor.report()
