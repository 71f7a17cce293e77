"""Private Redis and PostgreSQL servers that a fault test may kill and restart.

The machine's shared servers (127.0.0.1:6379, :5432) carry other tests and helpers, so
they are never restarted: each fault test starts its own on a free port, in a temporary
folder, and stops it at the end. Without the binaries the test skips (fails in CI).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import _service_unavailable, free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _wait(check, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come up within {timeout} s")
        time.sleep(0.05)


@dataclass
class PrivateRedis:
    """A redis-server of one test (no persistence: a restart forgets everything, the
    worst case)."""

    port: int
    folder: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(self.ping, "redis-server")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self, down_seconds: float = 0.5) -> None:
        """Kill the server, stay down a moment, start an empty one on the same port."""
        self.kill()
        time.sleep(down_seconds)
        self.start()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of this test's own on a free port."""
    if shutil.which("redis-server") is None:
        _service_unavailable("Redis", "redis-server", FileNotFoundError("no binary"))
    with tempfile.TemporaryDirectory(prefix="glmweb-redis-") as folder:
        server = PrivateRedis(port=free_port(), folder=Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.kill()


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of one test, run as the postgres user (initdb refuses
    root) with trust authentication on 127.0.0.1 only."""

    port: int
    folder: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self._as_postgres(), str(PG_BIN / "pg_ctl"), "-D",
             str(self.folder / "data"), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def _as_postgres(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def init(self) -> None:
        subprocess.run(
            [*self._as_postgres(), str(PG_BIN / "initdb"), "-D",
             str(self.folder / "data"), "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._pg_ctl("-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def restart(self) -> None:
        """Stop the server at once (every session is cut) and start it again."""
        self._pg_ctl("-m", "immediate", "-w", "stop")
        self.start()

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate", "-w", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this test's own on a free port."""
    if not (PG_BIN / "initdb").exists():
        _service_unavailable("Postgres", str(PG_BIN), FileNotFoundError("no initdb"))
    folder = Path(tempfile.mkdtemp(prefix="glmweb-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    server = PrivatePostgres(port=free_port(), folder=folder)
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(folder, ignore_errors=True)
