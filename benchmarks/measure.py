"""What every benchmark here measures with: a process's CPU time, percentiles, and the
arrival of `[[sim:stamp]]` tokens read straight from the simulator."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

STAMP_PREFIX = b'data: {"sim_sent_at":'


def process_cpu_seconds(pid: int) -> float:
    """Return utime + stime of process `pid` so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float | None:
    """Return the `pct` percentile of `values` (nearest rank), None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(pct / 100 * len(ordered)))]


async def stamped_tokens(
    response: aiohttp.ClientResponse,
) -> AsyncIterator[tuple[float, float]]:
    """Yield (arrival time, simulator send time) for each token of a stamped stream."""
    buffer = b""
    async for chunk in response.content.iter_any():
        now = time.time()
        buffer += chunk
        *events, buffer = buffer.split(b"\n\n")
        for event in events:
            if not event.startswith(STAMP_PREFIX) or b'"content":""' in event:
                continue  # [DONE], or the final chunk with no token
            yield now, float(event[len(STAMP_PREFIX) : event.index(b",", 20)])
