"""Benchmark: the ASGI server's own CPU per websocket frame sent, Daphne vs uvicorn.

The chat relay benchmark (chat_relay.py) measures the whole app; this one measures only
what changes with GLMWEB_WEB_SERVER. The server runs exactly as `make run` starts it
(`python -m glmweb.serve`, pinned to core 0), but serving the tiny ASGI application
below instead of the chat: each websocket, once told "go", sends FRAMES text frames
shaped like the relay's `reply.delta` (about 120 bytes) as fast as the server takes
them, then "done". C clients (aiohttp, core 1) read them. The server's CPU time (utime +
stime from /proc) over the burst, divided by the frames sent, is its cost per frame;
the chat's own per-frame work (Channels' consumer, the JSON encoding) comes on top of
it and is the same on both servers. Runs are interleaved (Daphne, uvicorn, Daphne, ...).

    .venv/bin/python benchmarks/server_frame_cost.py --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from measure import process_cpu_seconds
from simulator_process import BASE_DIR, free_port, pinned

CLIENT_CORE = "1"
SERVER_CORE = "0"
FRAME = json.dumps(
    {
        "type": "reply.delta",
        "message_id": 123456,
        "seq": 42,
        "content": "GLM streams a few words per frame, like this. ",
        "reasoning": "",
    }
)


if __name__ != "__main__":
    # Imported by the server: glmweb.serve's stop asks Django's apps for their
    # shutdown hooks, as it does for the chat.
    import django

    django.setup()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The measured application: /healthz over HTTP, frame bursts over websockets."""
    if scope["type"] == "http":
        pid = json.dumps({"pid": os.getpid()}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": pid})
        return
    if scope["type"] != "websocket":
        return
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            count = int(message["text"].split()[1])
            for _ in range(count):
                await send({"type": "websocket.send", "text": FRAME})
            await send({"type": "websocket.send", "text": "done"})
        else:
            return


def start(server: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "glmweb.settings",
        "GLMWEB_WEB_SERVER": server,
        "PYTHONPATH": f"{BASE_DIR}:{BASE_DIR / 'benchmarks'}",
        "LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "glmweb.serve", "-b", "127.0.0.1", "-p", str(port)]
    argv += ["-v", "0", "server_frame_cost:app"]
    process = subprocess.Popen(pinned(SERVER_CORE, argv), cwd=BASE_DIR, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{server} did not start")


async def burst(port: int, clients: int, frames: int) -> int:
    """Open `clients` sockets, ask each for `frames` frames at once, read them all;
    return the frames received."""
    async with aiohttp.ClientSession() as http:
        sockets = [
            await http.ws_connect(f"ws://127.0.0.1:{port}/ws") for _ in range(clients)
        ]

        async def read(ws: aiohttp.ClientWebSocketResponse) -> int:
            received = 0
            await ws.send_str(f"go {frames}")
            while (await ws.receive_str()) != "done":
                received += 1
            await ws.close()
            return received

        return sum(await asyncio.gather(*(read(ws) for ws in sockets)))


def measure(server: str, clients: int, frames: int) -> dict[str, Any]:
    port = free_port()
    process = start(server, port)
    try:
        asyncio.run(burst(port, 2, 50))  # warm-up: imports, first connections
        before = process_cpu_seconds(process.pid)
        started = time.monotonic()
        received = asyncio.run(burst(port, clients, frames))
        wall = time.monotonic() - started
        cpu = process_cpu_seconds(process.pid) - before
    finally:
        process.terminate()
        process.wait(timeout=20)
    return {
        "server": server,
        "clients": clients,
        "frames": received,
        "cpu_s": round(cpu, 3),
        "cpu_us_per_frame": round(1e6 * cpu / max(received, 1), 2),
        "wall_s": round(wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--frames", type=int, default=1000, help="frames per socket")
    parser.add_argument("--servers", nargs="+", default=["daphne", "uvicorn"])
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    if sys.platform == "linux":
        os.sched_setaffinity(0, {int(CLIENT_CORE)})
    results = []
    for run in range(args.runs):
        for server in args.servers:
            result = {"run": run + 1, **measure(server, args.clients, args.frames)}
            results.append(result)
            print(json.dumps(result), flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1))
    print()
    print("| server | runs | CPU µs per frame (runs) | median |")
    print("| --- | --- | --- | --- |")
    for server in args.servers:
        costs = [r["cpu_us_per_frame"] for r in results if r["server"] == server]
        print(
            f"| {server} | {len(costs)} | {', '.join(f'{c:.1f}' for c in costs)} "
            f"| {statistics.median(costs):.1f} |"
        )


if __name__ == "__main__":
    main()
