"""The chat relay benchmark's server side: web processes (Daphne, or uvicorn with
`server="uvicorn"`: GLMWEB_WEB_SERVER) started through daphne_counting.py and
pinned to core 0 (or, in `redis-shared`, two on one SO_REUSEPORT port as runapp
starts them, free to use both cores), each mode's environment and database, the
accounts, and reading a process's CPU time, peak RSS, statement count and saturation
warnings."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import slow_machine
from measure import process_cpu_seconds
from simulator_process import BASE_DIR, free_port, pinned

SERVER_CORE = "0"
BOTH_CORES = "0,1"
MODES = ("embedded", "redis", "redis-split", "redis-shared")
SATURATION_WARNING = "web process saturated"
# App settings the benchmark decides itself; anything inherited is dropped.
APP_VARS = (
    "REDIS_URL",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "ZHIPUAI_API_KEY",
    "ZHIPUAI_BASE_URL",
    "GLMWEB_VAR_DIR",
    "GLMWEB_PRODUCTION",
    "DEBUG",
)


def mode_env(mode: str, args: argparse.Namespace, sim_port: int, workdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in APP_VARS}
    env.update(
        DJANGO_SETTINGS_MODULE="glmweb.settings",
        GLMWEB_VAR_DIR=str(workdir / mode.split("-")[0]),
        ZHIPUAI_BASE_URL=f"http://127.0.0.1:{sim_port}/api/paas/v4/",
        GLMWEB_AUTO_TITLE="off",
        DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    if mode != "embedded":
        env.update(REDIS_URL=args.redis_url, DATABASE_URL=args.database_url)
    return env


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Server:
    """A web process run by daphne_counting.py, pinned to the server core."""

    name: str
    process: subprocess.Popen
    port: int
    stats_file: Path
    log_file: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.process.pid)

    def statements(self) -> dict[str, Any]:
        """Ask the process for its statement totals (SIGUSR1) and read them."""
        self.stats_file.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not self.stats_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: no statement totals after SIGUSR1")
            time.sleep(0.005)
        return json.loads(self.stats_file.read_text())

    def saturation_warnings(self) -> int:
        """Count the process's "saturated" warnings (glmweb/saturation.py) so far."""
        return self.log_file.read_text(errors="replace").count(SATURATION_WARNING)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    name: str,
    env: dict,
    workdir: Path,
    shared_port: int | None = None,
    server: str = "daphne",
) -> Server:
    """Start web process `name` (`server`: "daphne" or "uvicorn") on a port of its
    own, or on `shared_port` beside others (glmweb/serve.py's SO_REUSEPORT socket,
    the two cores free), and wait until it answers the health check itself (it names
    its pid)."""
    port = shared_port or free_port()
    stats_file = workdir / f"statements-{name}-{port}.json"
    log_file = workdir / f"{server}-{name}-{port}.log"
    log = open(log_file, "w")  # noqa: SIM115
    listen = (
        ["--shared-port", f"127.0.0.1:{port}"]
        if shared_port
        else ["-b", "127.0.0.1", "-p", str(port)]
    )
    argv = [
        sys.executable,
        str(BASE_DIR / "benchmarks" / "daphne_counting.py"),
        *listen,
        "glmweb.asgi:application",
    ]
    core = BOTH_CORES if shared_port else SERVER_CORE
    process = subprocess.Popen(
        pinned(core, slow_machine.wrap(argv, name)),
        cwd=BASE_DIR,
        env={
            **env,
            "BENCH_STATEMENTS_FILE": str(stats_file),
            "GLMWEB_WEB_SERVER": server,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    started = Server(name, process, port, stats_file, log_file)
    deadline = time.monotonic() + 60
    while True:
        try:
            # A new connection each time: on a shared port the kernel picks anew.
            with urllib.request.urlopen(f"{started.base}/healthz", timeout=2) as r:
                if r.status == 200 and json.loads(r.read())["pid"] == process.pid:
                    return started
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            started.stop()
            raise RuntimeError(f"{server} {name} did not start; see {log_file}")
        time.sleep(0.05 if shared_port else 0.1)


def prepare_database(mode: str, env: dict, args: argparse.Namespace) -> None:
    """Create the PostgreSQL database if it is missing, then migrate (quietly)."""
    if mode != "embedded":
        import psycopg

        name = args.database_url.rsplit("/", 1)[1]
        admin_url = args.database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not found:
                conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )


def make_fixtures(env: dict, users: int, model: str) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            str(BASE_DIR / "benchmarks" / "chat_relay_fixtures.py"),
            "--users",
            str(users),
            "--model",
            model,
        ],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def start_profiles(
    directory: Path | None, label: str, servers: list[Server]
) -> list[subprocess.Popen]:
    """Start `py-spy record` on each server (non-blocking sampling: the server is
    never paused), writing an SVG flame graph into `directory` when stopped."""
    if directory is None:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%H%M%S")
    return [
        subprocess.Popen(
            [
                "py-spy",
                "record",
                "--nonblocking",
                "--format",
                os.environ.get("BENCH_PYSPY_FORMAT", "flamegraph"),
                "--pid",
                str(s.process.pid),
                "--output",
                str(directory / f"{stamp}-{label}-{s.name}.svg"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for s in servers
    ]


def stop_profiles(profilers: list[subprocess.Popen]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        profiler.wait(timeout=60)
