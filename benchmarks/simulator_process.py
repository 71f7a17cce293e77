"""The benchmarks' simulator: started as its own process on the second core, so what a
benchmark measures on the first core is never the simulator's work."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SIMULATOR_CORE = 1


def pinned(core: int | str, argv: list[str]) -> list[str]:
    """Return argv run on one core, or a taskset list such as "0,1" (unchanged where
    `taskset` is missing)."""
    return ["taskset", "-c", str(core), *argv] if shutil.which("taskset") else argv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_simulator(*args: str) -> Iterator[subprocess.Popen]:
    """Start `manage.py runsimulator` with args, wait until it listens, stop it after.

    The process gets a `port` attribute; its API is at
    http://127.0.0.1:<port>/api/paas/v4/.
    """
    port = free_port()
    argv = [sys.executable, "manage.py", "runsimulator", "--port", str(port), *args]
    simulator = subprocess.Popen(
        pinned(SIMULATOR_CORE, argv),
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    simulator.port = port  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or simulator.poll() is not None:
                    raise
                time.sleep(0.1)
        yield simulator
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
