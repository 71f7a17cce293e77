"""`manage.py runapp` (what `make run` calls) starts the web server, a Celery worker
and, with no API key, the simulator; the page answers and Ctrl-C stops all of them."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from tests.conftest import free_port, start_runapp

BASE_DIR = Path(__file__).resolve().parents[2]


def read_lines(stream, sink: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        sink.put(line)
    sink.put(None)


def wait_for_line(
    lines: queue.Queue, needle: str, seen: list[str], timeout: float
) -> str:
    """Return the first line holding needle, among those seen so far or to come."""
    for line in seen:
        if needle in line:
            return line
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            raise AssertionError("runapp exited:\n" + "".join(seen))
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(
        f"no line containing {needle!r} within {timeout} s:\n" + "".join(seen)
    )


def port_closed(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return False
    except OSError:
        return True


def test_runapp_serves_the_app_with_worker_and_simulator_and_stops_them(tmp_path):
    web_port, sim_port = free_port(), free_port()
    process = start_runapp(tmp_path, web_port, sim_port)
    lines: queue.Queue = queue.Queue()
    threading.Thread(
        target=read_lines, args=(process.stdout, lines), daemon=True
    ).start()
    seen: list[str] = []
    try:
        ready = wait_for_line(lines, "GLM Web is running at", seen, timeout=90)
        assert f"http://127.0.0.1:{web_port}/" in ready
        assert "GLM simulator" in seen[-2]
        # The worker says it takes tasks before the running line is printed.
        assert (tmp_path / "worker.ready").exists()

        with urllib.request.urlopen(
            f"http://127.0.0.1:{web_port}/", timeout=5
        ) as response:
            page = response.read().decode()
        assert 'data-upstream="simulator"' in page
        css_url = f"http://127.0.0.1:{web_port}/static/app.css"
        with urllib.request.urlopen(css_url, timeout=5) as response:
            assert response.status == 200 and b"font-family" in response.read()

        with urllib.request.urlopen(
            f"http://127.0.0.1:{sim_port}/_sim/requests", timeout=5
        ) as r:
            assert r.status == 200

        assert (tmp_path / "db.sqlite3").exists()
        # The running line stays the last one: requests leave no access-log line, and
        # no process adds start-up noise after it.
        time.sleep(2)
        while not lines.empty():
            line = lines.get()
            assert line is None or not line.strip(), f"printed after running: {line!r}"
        assert "GLM Web is running at" in seen[-1]
        output = "".join(seen)
        assert "celery@" not in output and "kombu" not in output, output
        assert "superuser" not in output, output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert process.returncode == 0, "".join(seen)
    assert port_closed(web_port) and port_closed(sim_port)
