"""How much one large POST stalls everyone else's streams: frame gaps during a 100 MB
multipart POST to /accounts/login/ (anonymous, no cookie), against a quiet baseline.

    .venv/bin/python benchmarks/body_stall.py [--streams 20] [--post-mb 100] [--stock]

Starts the simulator and one Daphne (as `make run` does: glmweb.serve; `--stock` runs
Daphne as shipped on the asyncio loop, Twisted's form parsing on and no body limits:
the "before"), opens `--streams` sockets each streaming a slow reply (50 tokens/s,
one frame about every 35 ms), then measures the gaps between frames on every socket
for `--window` seconds with nothing else going on, and again while a client sends a
well-formed multipart body of `--post-mb` MB as fast as loopback allows. Prints one
JSON object: per phase the p50/p99/max frame gap (ms), the POST's status and time,
and the server's RSS before and after (MB). Run benchmarks/calibration.py before and
after, and report both with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chat_relay_clients import open_socket, send_message  # noqa: E402
from chat_relay_servers import (  # noqa: E402
    make_fixtures,
    mode_env,
    prepare_database,
    start_server,
)
from measure import percentile  # noqa: E402
from simulator_process import running_simulator  # noqa: E402

MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post_multipart(port: int, size: int, result: dict) -> None:
    """Send a multipart body of `size` bytes (one file part); record status, time."""
    head = (
        b'--x\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    tail = b"\r\n--x--\r\n"
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(
        (
            f"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {size}\r\n\r\n"
        ).encode()
        + head
    )
    left, block = size - len(head) - len(tail), b"a" * MB
    try:
        while left > 0:
            sock.sendall(block[:left])
            left -= min(left, MB)
        sock.sendall(tail)
    except OSError:
        pass  # refused and closed: the status line is already waiting
    try:
        result["status"] = sock.recv(64).split(b"\r\n")[0].decode()
    except OSError as exc:
        result["status"] = f"no answer ({exc.__class__.__name__})"
    result["seconds"] = round(time.monotonic() - started, 2)
    sock.close()


async def gaps_during(sockets: list, seconds: float) -> list[float]:
    """Return every gap between consecutive frames on each socket, in ms."""
    gaps: list[float] = []

    async def read(ws) -> None:
        last = time.monotonic()
        deadline = last + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                await ws.receive(timeout=left)
            except asyncio.TimeoutError:
                break
            now = time.monotonic()
            gaps.append((now - last) * 1000)
            last = now

    await asyncio.gather(*(read(ws) for ws in sockets))
    return gaps


def figures(gaps: list[float]) -> dict:
    return {
        "frames": len(gaps),
        "p50_ms": round(percentile(gaps, 50) or 0, 1),
        "p99_ms": round(percentile(gaps, 99) or 0, 1),
        "max_ms": round(max(gaps, default=0), 1),
    }


async def measure(args: argparse.Namespace, server, fixtures: dict) -> dict:
    cookie_name = fixtures["cookie_name"]
    out: dict = {}
    async with aiohttp.ClientSession() as http:
        sockets = []
        for user in fixtures["users"][: args.streams]:
            ws = await open_socket(
                http,
                server.base,
                f"{cookie_name}={user['session_key']}",
                user["conversations"][0],
            )
            await send_message(ws, "Stream on [[sim:tokens=3000,rate=50]]")
            sockets.append(ws)
        await asyncio.sleep(2)  # every reply streaming
        out["rss_before_mb"] = round(rss_mb(server.process.pid), 1)
        out["baseline"] = figures(await gaps_during(sockets, args.window))
        result: dict = {}
        poster = threading.Thread(
            target=post_multipart, args=(server.port, args.post_mb * MB, result)
        )
        poster.start()
        out["during_post"] = figures(await gaps_during(sockets, args.window))
        await asyncio.to_thread(poster.join, 120)
        out["post"] = result
        out["rss_after_mb"] = round(rss_mb(server.process.pid), 1)
        for ws in sockets:
            await ws.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--post-mb", type=int, default=100)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--stock", action="store_true")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_simulator() as simulator,
    ):
        env = mode_env("embedded", args, simulator.port, Path(workdir))
        if args.stock:
            env["BENCH_DAPHNE_LOOP"] = "asyncio"
        prepare_database("embedded", env, args)
        fixtures = make_fixtures(env, args.streams, "glm-4-flash")
        server = start_server("stock" if args.stock else "serve", env, Path(workdir))
        try:
            result = asyncio.run(measure(args, server, fixtures))
        finally:
            server.stop()
    print(json.dumps({"server": "stock daphne" if args.stock else "glmweb.serve",
                      "streams": args.streams, "post_mb": args.post_mb, **result},
                     indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
