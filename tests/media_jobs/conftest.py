"""Fixtures for video jobs: users, fast lifecycle settings, and real Celery workers.

`workers` starts real `celery -A glmweb worker` processes (with beat, so the sweep
runs) against the running simulator and the test database, on the embedded
filesystem broker or on Redis (the `broker` parameter), and points this process's
producer at the same broker and queue, so `transaction.on_commit(... .delay())` in
services reaches them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection
from kombu import pools

from glmweb import settings as glmweb_settings
from glmweb.celery import app as celery_app
from media_jobs.models import VideoJob

BASE_DIR = Path(__file__).resolve().parents[2]

# Short waits everywhere, in this process and in the workers alike.
FAST = {
    "VIDEO_POLL_FIRST_SECONDS": "0.3",
    "VIDEO_POLL_MAX_SECONDS": "1",
    "VIDEO_SWEEP_SECONDS": "1",
    "VIDEO_SWEEP_GRACE_SECONDS": "1",
    "VIDEO_SUBMIT_BACKOFF_SECONDS": "0.5",
    "VIDEO_SUBMIT_BACKOFF_MAX_SECONDS": "1",
    "VIDEO_SUBMIT_MAX_ATTEMPTS": "4",
    "VIDEO_DEADLINE_SECONDS": "60",
    "VIDEO_MAX_IN_FLIGHT": "10",
}


@pytest.fixture
def fast_settings(settings, glm_settings, tmp_path):
    """This process's settings as the workers see them, media in a temp folder."""
    for name, value in FAST.items():
        setattr(settings, name, type(getattr(settings, name))(float(value)))
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner-1234")


@pytest.fixture
def stranger(django_user_model):
    return django_user_model.objects.create_user("stranger", password="pw-other-1234")


@dataclass
class Workers:
    """Celery worker processes sharing one broker, queue, database and media root."""

    env: dict[str, str]
    log_dir: Path
    filesystem: bool
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self, *, beat: bool = True, **extra_env: str) -> subprocess.Popen:
        """Start a worker (its own process group) and wait until it consumes."""
        name = f"w{len(self.processes)}-{uuid.uuid4().hex[:6]}"
        log_path = self.log_dir / f"{name}.log"
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "glmweb",
            "worker",
            "--pool=threads",
            "--concurrency=2",
            "-n",
            f"{name}@%h",
            "-Q",
            self.env["GLMWEB_TEST_QUEUE"],
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
        if beat:
            argv += ["--beat", f"--schedule={self.log_dir / (name + '-beat')}"]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                argv,
                cwd=BASE_DIR,
                env={**self.env, **extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process.log_path = log_path  # type: ignore[attr-defined]
        self.processes.append(process)
        deadline = time.monotonic() + 60
        while b" ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("worker did not start:\n" + self.logs())
            time.sleep(0.1)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker and everything it started (its beat), as a crash would."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        # The test is over: Celery's cold shutdown (SIGQUIT) hands Redis its unacked
        # messages back; the filesystem broker lives in the test's temporary folder,
        # where a kill loses nothing of value and saves seconds.
        stop = signal.SIGKILL if self.filesystem else signal.SIGQUIT
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, stop)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.log_path.name}\n{p.log_path.read_text(errors='replace')[-4000:]}"  # type: ignore[attr-defined]
            for p in self.processes
        )


def _point_producer(url: str, options: dict, queue: str) -> None:
    """Send this process's tasks to `url`'s broker, queue `queue`."""
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = options
    celery_app.conf.update(task_routes={"media_jobs.tasks.*": {"queue": queue}})
    # Drop the pooled connections to the previous broker, as Celery does after a fork.
    pools.reset()
    celery_app._after_fork()


@pytest.fixture(
    params=["filesystem", pytest.param("redis", marks=pytest.mark.services)]
)
def broker(request) -> str:
    """The broker a test's workers use: the embedded filesystem one, or real Redis."""
    if request.param == "redis":
        return request.getfixturevalue("redis_url")
    return "filesystem://"


@pytest.fixture
def workers(broker, fast_settings, simulator, tmp_path) -> Iterator[Workers]:
    """Real Celery workers for one test (start them with `.start()`)."""
    queue = f"media-jobs-test-{uuid.uuid4().hex[:8]}"
    var_dir = tmp_path / "worker-var"
    var_dir.mkdir()
    if broker.startswith("filesystem"):
        options = glmweb_settings.filesystem_broker_options(var_dir)
    else:
        options = {}
    saved = (
        celery_app.conf.broker_url,
        dict(celery_app.conf.broker_transport_options or {}),
        celery_app.conf.task_routes,
    )
    _point_producer(broker, options, queue)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(FAST)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.media_jobs.worker_settings",
        GLMWEB_TEST_DB_NAME=str(connection.settings_dict["NAME"]),
        GLMWEB_TEST_QUEUE=queue,
        GLMWEB_VAR_DIR=str(var_dir),
        CELERY_BROKER_URL=broker,
        MEDIA_ROOT=str(fast_settings.MEDIA_ROOT),
        ZHIPUAI_BASE_URL=simulator.base_url,
        ZHIPUAI_API_KEY="test-id.test-secret",
        ZHIPUAI_MAX_RETRIES="0",
        PYTHONUNBUFFERED="1",
    )
    running = Workers(
        env=env, log_dir=tmp_path, filesystem=broker.startswith("filesystem")
    )
    try:
        yield running
    finally:
        running.stop_all()
        url, opts, routes = saved
        _point_producer(url, opts, "celery")
        celery_app.conf.update(task_routes=routes)


def wait_for_status(
    job_id: int, statuses: set[str], timeout: float, workers: Workers | None = None
) -> VideoJob:
    """Return the job once its status is one of `statuses`; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        job = VideoJob.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        if time.monotonic() > deadline:
            logs = workers.logs() if workers else ""
            raise AssertionError(
                f"job {job_id} still {job.status} ({job.error_code} "
                f"{job.error_message}) after {timeout} s\n{logs}"
            )
        time.sleep(0.1)


def submissions(simulator, request_id: str) -> list[dict]:
    """Return the videos/generations requests the simulator got for `request_id`."""
    return [
        entry
        for entry in simulator.requests()
        if entry["path"].endswith("videos/generations")
        and (entry.get("json") or {}).get("request_id") == request_id
    ]
