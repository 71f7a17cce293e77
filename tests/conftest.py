"""Shared fixtures: a running GLM simulator (a real server on a free loopback port) and
the app's settings pointed at it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings
from django.db.backends.signals import connection_created

from tests import parallel_workers

BASE_DIR = Path(__file__).resolve().parent.parent

# PBKDF2 at Django's iteration count takes ~0.36 s a password on these machines, and the
# suite hashes over a hundred. Tests are not about hash strength; the app's own
# processes (runapp, the browser tests' app) keep the real hasher.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Under pytest-xdist (`make test`), this worker's own VAR_DIR and Redis database.
parallel_workers.isolate_worker(settings)


# First: xdist's own hook turns the groups into node ids.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Put the tests that must share one worker in their xdist group."""
    for item in items:
        group = parallel_workers.shared_fixture_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


# Every database connection any thread opened (the reply engine's pool threads too), so
# they can all be closed before pytest-django drops the test database: PostgreSQL
# refuses to drop a database that still has sessions.
_connections = weakref.WeakSet()


def _remember_connection(sender, connection, **kwargs) -> None:
    _connections.add(connection)


connection_created.connect(_remember_connection)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Start every test with an empty cache: rows are rolled back between tests and
    their ids given again, so a cached copy would outlive its row."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    yield
    for connection in list(_connections):
        connection.inc_thread_sharing()
        connection.close()
    # With psycopg's pool (DATABASE_URL) the pooled connections hold the database too.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_runapp(
    var_dir: Path, web_port: int, sim_port: int, *args: str, **extra_env: str
) -> subprocess.Popen:
    """Start `manage.py runapp` as `make run` does: no API key (so the simulator), the
    embedded services in `var_dir` (unless `extra_env` names others), the given ports;
    output piped as text lines."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ZHIPUAI_API_KEY", "ZHIPUAI_BASE_URL", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        GLMWEB_VAR_DIR=str(var_dir),
        GLMWEB_SIMULATOR_PORT=str(sim_port),
        PYTHONUNBUFFERED="1",
        # Every test signs up its own users, all from 127.0.0.1 (the throttle has its
        # own tests: tests/glmweb/test_throttle.py).
        GLMWEB_SIGNUPS_PER_ADDRESS="100000",
        GLMWEB_LOGIN_FAILURES_PER_ADDRESS="100000",
        **extra_env,
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "runapp", "--port", str(web_port), *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s")


@dataclass
class RunningSimulator:
    """A simulator process; `base_url` is what ZHIPUAI_BASE_URL would be."""

    port: int
    process: subprocess.Popen
    log: IO[bytes]

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/paas/v4/"

    def requests(self) -> list[dict]:
        """Return the requests the simulator recorded, oldest first."""
        with urllib.request.urlopen(f"{self.root}/_sim/requests", timeout=5) as resp:
            return json.loads(resp.read())

    def last_request(self, path_suffix: str) -> dict:
        """Return the newest recorded request whose path ends with path_suffix."""
        for entry in reversed(self.requests()):
            if entry["path"].endswith(path_suffix):
                return entry
        raise AssertionError(f"the simulator recorded no request to …{path_suffix}")


def start_simulator(*extra_args: str) -> RunningSimulator:
    port = free_port()
    log = open(BASE_DIR / "var" / f"simulator-{port}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "runsimulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra_args,
        ],
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "glmweb.settings"},
    )
    wait_for_port(port, process)
    return RunningSimulator(port=port, process=process, log=log)


@pytest.fixture(scope="session")
def simulator():
    """A simulator answering fast: 1,000 tokens/s and videos ready after 2 s."""
    (BASE_DIR / "var").mkdir(exist_ok=True)
    running = start_simulator("--token-rate", "1000", "--video-seconds", "2")
    yield running
    running.process.terminate()
    running.process.wait(timeout=10)
    running.log.close()


@pytest.fixture
def glm_settings(settings, simulator):
    """Point the app's API client at the running simulator."""
    settings.ZHIPUAI_BASE_URL = simulator.base_url
    settings.ZHIPUAI_API_KEY = "test-id.test-secret"
    settings.ZHIPUAI_MAX_RETRIES = 0
    return settings


def _service_unavailable(what: str, url: str, error: Exception) -> None:
    """Skip a test whose service is absent, except in CI, where that is a failure."""
    message = (
        f"{what} is not reachable at {url} ({error}); "
        f"start it or set TEST_{what.upper()}_URL"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A real Redis for the tests that need one (a database number of its own)."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        _service_unavailable("Redis", url, exc)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A real PostgreSQL server URL whose user may create databases."""
    import psycopg

    url = os.environ.get(
        "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.Error as exc:
        _service_unavailable("Postgres", url, exc)
    return url
