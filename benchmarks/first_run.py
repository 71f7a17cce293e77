"""Clone to first streamed reply, as a new person meets GLM Web.

    .venv/bin/python benchmarks/first_run.py [--repo PATH] [--no-pip-cache]

Clones the repository (default: this checkout's HEAD) into a temporary directory,
runs `make run` there (a fresh .venv, no API key: the simulator answers), waits for
its "GLM Web is running at" line, then does what a person does in the page: signs up,
starts a conversation, sends a message over the chat socket and waits for the first
streamed text. Prints the time of each step and whether pip's download cache was used
(README "First run" holds the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_running(process: subprocess.Popen, timeout: float) -> tuple[str, float]:
    """Echo make's output until the running line; return it and when it came."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    for line in iter(process.stdout.readline, ""):
        print(f"  | {line.rstrip()}")
        if "GLM Web is running at" in line:
            return line, time.monotonic()
        if time.monotonic() > deadline:
            break
    raise RuntimeError("make run ended or timed out before its running line")


async def first_token(base: str) -> float:
    """Sign up, make a conversation, send a message; return when text first came."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(f"{base}/accounts/signup/") as r:
            page = await r.text()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "no CSRF token on the sign-up page"
        form = {
            "csrfmiddlewaretoken": token.group(1),
            "username": "first-run",
            "password1": "first-run-pw-2026",
            "password2": "first-run-pw-2026",
        }
        async with session.post(f"{base}/accounts/signup/", data=form) as r:
            assert r.status == 200 and "/accounts/signup" not in str(r.url), r.status
        csrf = next(c.value for c in jar if c.key == "csrftoken")
        async with session.post(
            f"{base}/api/conversations/", json={}, headers={"X-CSRFToken": csrf}
        ) as r:
            conversation = (await r.json())["conversation"]["id"]
        ws = await session.ws_connect(
            f"{base.replace('http', 'ws', 1)}/ws/chat/{conversation}/",
            headers={"Origin": base},
        )
        await ws.receive_json(timeout=30)  # conversation.history
        await ws.send_str(
            orjson.dumps(
                {
                    "type": "message.send",
                    "client_id": str(uuid.uuid4()),
                    "text": "Hello! What can you do?",
                }
            ).decode()
        )
        while True:
            frame = await ws.receive_json(timeout=60)
            if frame["type"] == "reply.delta" and frame.get("content"):
                await ws.close()
                return time.monotonic()
            if frame["type"] in {"error", "reply.end"}:
                raise RuntimeError(f"no streamed text: {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(ROOT))
    parser.add_argument(
        "--no-pip-cache", action="store_true", help="make pip download everything"
    )
    args = parser.parse_args()
    port, sim_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ZHIPUAI_API_KEY", "ZHIPUAI_BASE_URL", "DATABASE_URL", "REDIS_URL"}
        and not k.startswith("VIRTUAL_ENV")
    }
    env.update(GLMWEB_PORT=str(port), GLMWEB_SIMULATOR_PORT=str(sim_port))
    if args.no_pip_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    pip_cache = subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True
    ).stdout.strip()
    cached = not args.no_pip_cache and pip_cache and Path(pip_cache).is_dir()

    with tempfile.TemporaryDirectory(prefix="glmweb-first-run-") as tmp:
        clone = Path(tmp) / "glmweb"
        started = time.monotonic()
        subprocess.run(["git", "clone", "--quiet", args.repo, str(clone)], check=True)
        cloned = time.monotonic()
        process = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            _, running = wait_for_running(process, timeout=600)
            token = asyncio.run(first_token(f"http://127.0.0.1:{port}"))
        finally:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    print(f"clone:                       {cloned - started:6.1f} s")
    print(f"make run to its running line: {running - cloned:6.1f} s")
    print(f"sign up to first streamed text: {token - running:6.1f} s")
    print(f"clone to first streamed reply: {token - started:6.1f} s")
    print(f"pip download cache: {'used (' + pip_cache + ')' if cached else 'not used'}")


if __name__ == "__main__":
    main()
