"""`manage.py runapp` (what `make run` calls) starts the web server, a Celery worker
and, with no API key, the simulator; the page answers and Ctrl-C stops all of them.
With Redis it starts a web process per core on one port (on Daphne and on uvicorn),
and a reply one streams reaches viewers on the other."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from django.core.management.base import CommandError

from glmweb.management.commands.runapp import web_listen_args
from tests.chat.conftest import send_frame
from tests.chat.web_servers import SERVERS
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


def test_runapp_refuses_to_share_a_port_already_in_use():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # SO_REUSEPORT would let a forgotten earlier run share the port silently.
        with pytest.raises(CommandError, match="already in use"):
            web_listen_args("127.0.0.1", port, 2)
    assert (
        web_listen_args("127.0.0.1", port, 2)
        == [["--shared-port", f"127.0.0.1:{port}"]] * 2
    )
    assert web_listen_args("127.0.0.1", port, 1) == [
        ["-b", "127.0.0.1", "-p", str(port)]
    ]


def health(port: int) -> dict:
    """GET /healthz on a new connection (so the kernel picks a process anew)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
        return json.loads(r.read())


def counting_connections() -> tuple[aiohttp.TraceConfig, list]:
    """Return a trace config and the list it adds each new TCP connection to."""
    connections: list = []

    async def created(session, context, params) -> None:
        connections.append(params)

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(created)
    return trace, connections


async def socket_on(http_port: int, pid: int, cookie: str, conversation: str):
    """Return (session, websocket) on the web process `pid`: the health check and
    the websocket handshake go over one kept-alive connection, so both reach the
    same process; new connections are tried until one lands on `pid`."""
    for _ in range(100):
        trace, connections = counting_connections()
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1), trace_configs=[trace]
        )
        async with http.get(f"http://127.0.0.1:{http_port}/healthz") as r:
            answered = (await r.json())["pid"]
        if answered != pid:
            await http.close()
            continue
        ws = await http.ws_connect(
            f"ws://127.0.0.1:{http_port}/ws/chat/{conversation}/",
            headers={
                "Origin": f"http://127.0.0.1:{http_port}",
                "Cookie": f"sessionid={cookie}",
            },
        )
        assert len(connections) == 1, "the websocket needed a connection of its own"
        history = await ws.receive_json(timeout=10)
        assert history["type"] == "conversation.history"
        return http, ws
    raise AssertionError(f"no connection reached pid {pid} in 100 tries")


async def frames_until(ws, frame_type: str) -> list[dict]:
    frames = []
    while not frames or frames[-1]["type"] != frame_type:
        frames.append(await ws.receive_json(timeout=20))
    return frames


@pytest.mark.services
@pytest.mark.parametrize("web_server", SERVERS)
def test_runapp_with_redis_runs_two_web_processes_on_one_port(
    tmp_path, redis_url, web_server
):
    web_port, sim_port = free_port(), free_port()
    process = start_runapp(
        tmp_path,
        web_port,
        sim_port,
        "--no-worker",
        REDIS_URL=redis_url,
        GLMWEB_WEB_PROCESSES="2",
        GLMWEB_WEB_SERVER=web_server,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(
        target=read_lines, args=(process.stdout, lines), daemon=True
    ).start()
    seen: list[str] = []
    try:
        wait_for_line(lines, "GLM Web is running at", seen, timeout=90)
        assert "Starting 2 web processes on one port" in "".join(seen)
        answers = [health(web_port) for _ in range(40)]
        pids = {a["pid"] for a in answers}
        # Both serve: the kernel spread 40 new connections over the two processes.
        assert len(pids) == 2, answers
        assert all(a["saturated"] is False for a in answers)
        # Each process's lag monitor reports once it has its first sample, a moment
        # after start-up (before that, lag_ms is None).
        lags: dict[int, float] = {}
        deadline = time.monotonic() + 15
        while set(lags) != pids and time.monotonic() < deadline:
            answer = health(web_port)
            if isinstance(answer["lag_ms"], float):
                lags[answer["pid"]] = answer["lag_ms"]
        assert set(lags) == pids, answers

        fixtures = subprocess.run(
            [sys.executable, "benchmarks/chat_relay_fixtures.py", "--users", "1"],
            cwd=BASE_DIR,
            env={
                **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
                "GLMWEB_VAR_DIR": str(tmp_path),
                "REDIS_URL": redis_url,
            },
            check=True,
            capture_output=True,
            text=True,
        )
        account = json.loads(fixtures.stdout)["users"][0]
        cookie, conversation = account["session_key"], account["conversations"][0]
        owner_pid, viewer_pid = sorted(pids)

        async def stream_across() -> tuple[list[dict], list[dict]]:
            http_a, on_owner = await socket_on(
                web_port, owner_pid, cookie, conversation
            )
            http_b, on_viewer = await socket_on(
                web_port, viewer_pid, cookie, conversation
            )
            await on_owner.send_json(send_frame("[[sim:tokens=40,rate=100]] hi"))
            owner_frames, viewer_frames = await asyncio.gather(
                frames_until(on_owner, "reply.end"),
                frames_until(on_viewer, "reply.end"),
            )
            for http in (http_a, http_b):
                await http.close()
            return owner_frames, viewer_frames

        owner_frames, viewer_frames = asyncio.run(stream_across())
        owner_end, viewer_end = owner_frames[-1], viewer_frames[-1]
        assert owner_end["message"]["status"] == "complete"
        assert owner_end["message"]["content"].startswith(
            'Here is a sample answer to "hi"'
        )
        # The viewer's process did not run the reply: it saw it through Redis.
        assert viewer_end["message"] == owner_end["message"]
        assert any(f["type"] == "reply.delta" for f in viewer_frames)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert process.returncode == 0, "".join(seen)
    assert port_closed(web_port)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
