"""A real Celery worker process takes tasks from the broker the settings choose: the
embedded filesystem broker with nothing configured, Redis when REDIS_URL is set."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

SEND = """
import sys, django
django.setup()
from glmweb.celery import app
app.send_task("tests.worker_probe.touch", args=[sys.argv[1], sys.argv[2]])
"""


def run_task_through_worker(env: dict[str, str], tmp_path: Path) -> tuple[str, str]:
    """Send a probe task, then start a worker; return (text sent, text written)."""
    target = tmp_path / "touched.txt"
    text = uuid.uuid4().hex
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "CELERY_BROKER_URL"}
    }
    env = {**base, "GLMWEB_VAR_DIR": str(tmp_path), **env}
    # Send first: the message must wait in the broker until a worker exists.
    sent = subprocess.run(
        [sys.executable, "-c", SEND, str(target), text],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stderr
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "glmweb",
            "worker",
            "--pool=solo",
            "-I",
            "tests.glmweb.worker_probe",
            "--loglevel=WARNING",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not target.exists() and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stdout.read()
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert target.exists(), "the worker never ran the task"
    return text, target.read_text()


def test_embedded_filesystem_broker_delivers_a_task_to_a_real_worker(tmp_path):
    sent, written = run_task_through_worker({}, tmp_path)
    assert written == sent
    # The broker's files stay under the var directory, nowhere else.
    assert (tmp_path / "celery" / "broker").is_dir()
    assert not (BASE_DIR / "control").exists()


@pytest.mark.services
def test_redis_broker_delivers_a_task_to_a_real_worker(tmp_path, redis_url):
    sent, written = run_task_through_worker({"REDIS_URL": redis_url}, tmp_path)
    assert written == sent
