"""Benchmark: the chat relay — N websocket viewers streaming replies through the server.

N clients, each signed in as its own user and on its own conversation, open the chat
socket on one Daphne process; within one second (a burst, as when many people press send
together) each sends a message whose reply is T tokens at R tokens/s from the simulator
(`[[sim:tokens=T,rate=R,stamp]]`). In the same run, N plain aiohttp clients read the
same replies straight from the simulator: the floor. Daphne is pinned to core 0; the
simulator, these clients and everything else to core 1.

Modes: `embedded` (SQLite, in-memory channel layer), `redis` (REDIS_URL +
DATABASE_URL: Redis and PostgreSQL), `redis-split` (the same, with every second
viewer on a second Daphne process, so N >= 2: its conversation's message is sent from a
socket on the first process, which closes once the message is created, so that reply
reaches its viewer only across processes) and `redis-shared` (two Daphne processes on
one port, as `manage.py runapp` starts them with REDIS_URL: SO_REUSEPORT spreads the
viewers' connections over them, and both may use both cores). Every measurement starts
fresh Daphne processes and new conversations; runs are interleaved (run 1 of every mode
and load, then run 2, ...).

`--servers daphne uvicorn` measures each mode and load on both ASGI servers
(GLMWEB_WEB_SERVER; glmweb/serve_uvicorn.py), interleaved like the modes; "Daphne"
above then means whichever server runs.

The machine is recorded with every measurement: the calibration loop
(benchmarks/calibration.py) just before and just after it, and the bare upstream read
of the same run (benchmarks/client_transport.py: N `zhipu.astream_chat` streams of the
same length and rate in one process on the server core, no Django, no sockets), so the
relay's CPU per 1,000 tokens is also given as a ratio to that read.

Reported per measurement (medians over runs at the end): per-token latency p50/p95/p99
(receive time minus the simulator's send time; see chat_relay_clients.py for how a
coalesced frame's tokens get their send times) and the floor's, time to first token
and its overhead over the floor, per-stream tokens/s delivered versus offered, tokens
lost and failed replies, Daphne CPU seconds per 1,000 tokens delivered (utime + stime
from /proc between the burst and a second after the last reply ended), peak RSS
(VmHWM), and database statements per reply (counted by benchmarks/daphne_counting.py).
Separate runs with a few clients count statements per reply for short and long
replies (`--statement-tokens`). Daphne's "saturated" warnings during a measurement are
counted from its log (glmweb/saturation.py).

`--preset issue14` is issue 14's set: N = 1, 100, 200 at 50 tokens/s and N = 100 at
150 tokens/s (200-token replies), and N = 100 replies of 3,000 tokens at 150 tokens/s
(peak RSS), in the embedded and redis-shared modes.

    .venv/bin/python benchmarks/chat_relay.py --preset issue14 --runs 3 \
        --json-out var/issue14.json
    .venv/bin/python benchmarks/chat_relay.py --clients 1 100 200 --runs 3
    .venv/bin/python benchmarks/chat_relay.py --clients 20 --modes embedded --runs 1 \\
        --statement-tokens 30
    .venv/bin/python benchmarks/chat_relay.py --clients 100 200 --modes embedded \\
        --servers daphne uvicorn --runs 3 --statement-tokens --json-out var/servers.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import calibration
import chat_relay_clients as rc
import client_transport
import slow_machine
from chat_relay_servers import (
    MODES,
    Server,
    flush_redis,
    make_fixtures,
    mode_env,
    prepare_database,
    start_profiles,
    start_server,
    stop_profiles,
)
from chat_relay_tables import print_tables
from simulator_process import free_port, running_simulator

try:  # the clients' loop: uvloop keeps their overhead (on the simulator's core) low
    from uvloop import run as run_async
except ImportError:  # pragma: no cover - uvloop is in requirements.txt
    run_async = asyncio.run

CLIENT_CORE = 1


# --- One measurement ------------------------------------------------------------------


@dataclass
class Load:
    clients: int
    tokens: int
    rate: int
    floor: bool
    split: bool
    profile: Path | None = None  # py-spy flame graphs of the measured window go here


# (N, tokens per reply, tokens/s) of issue 14: bursts at today's and at faster models'
# rate, and long fast replies for memory.
PRESETS: dict[str, list[tuple[int, int, int]]] = {
    "issue14": [
        (1, 200, 50),
        (100, 200, 50),
        (200, 200, 50),
        (100, 200, 150),
        (100, 3000, 150),
    ],
}
PRESET_MODES = {"issue14": ["embedded", "redis-shared"]}


async def run_load(
    load: Load, servers: list[Server], fixtures: dict, sim_root: str
) -> dict[str, Any]:
    api_url = f"{sim_root}/api/paas/v4/chat/completions"
    users = fixtures["users"]
    cookie_name = fixtures["cookie_name"]

    def cookie(user: dict) -> str:
        return f"{cookie_name}={user['session_key']}"

    a, b = servers[0], servers[-1]
    connector = aiohttp.TCPConnector(limit=0)
    timeout = load.tokens / max(load.rate, 1) + 60
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        # Warm-up, outside the measurement: one short reply per process, and the floor.
        warm_text = "[[sim:tokens=5,rate=0]] warm up"
        for n, server in enumerate(servers):
            user = users[load.clients + n]
            conv = user["conversations"][0]
            viewer = rc.Viewer(-1, conv)
            viewer.ws = await rc.open_socket(session, server.base, cookie(user), conv)
            if server is a:
                viewer.sent_at, _ = await rc.send_message(viewer.ws, warm_text)
                await rc.watch(viewer, 30)
            else:
                sender = await rc.open_socket(session, a.base, cookie(user), conv)
                await asyncio.gather(
                    rc.send_then_leave(sender, warm_text, viewer),
                    rc.watch(viewer, 30),
                )
            if viewer.error or viewer.status != "complete":
                raise RuntimeError(
                    f"warm-up reply on {server.name} failed: "
                    f"{viewer.error or viewer.status}"
                )
        if load.floor:
            await rc.read_floor(session, api_url, rc.FloorStream(-1), warm_text)
        async with session.delete(f"{sim_root}/_sim/requests") as r:
            r.raise_for_status()

        # Connect every viewer (and, for remote viewers, its sender) before the burst.
        viewers = [
            rc.Viewer(i, users[i]["conversations"][0]) for i in range(load.clients)
        ]
        senders: dict[int, aiohttp.ClientWebSocketResponse] = {}
        gate = asyncio.Semaphore(32)

        async def connect(v: rc.Viewer) -> None:
            remote = load.split and v.index % 2 == 1
            host = b if remote else a
            async with gate:
                c = cookie(users[v.index])
                v.ws = await rc.open_socket(session, host.base, c, v.conversation)
                if remote:
                    senders[v.index] = await rc.open_socket(
                        session, a.base, c, v.conversation
                    )

        connect_started = time.monotonic()
        await asyncio.gather(*(connect(v) for v in viewers))
        connect_s = time.monotonic() - connect_started

        profilers = start_profiles(load.profile, f"N{load.clients}", servers)
        before = [(s.cpu(), s.statements()) for s in servers]
        delays = [random.uniform(0, 1) for _ in range(load.clients)]
        floors = [rc.FloorStream(i) for i in range(load.clients)] if load.floor else []

        async def relay(v: rc.Viewer) -> None:
            await asyncio.sleep(delays[v.index])
            text = rc.message_text(v.index, load.tokens, load.rate)
            if v.index in senders:
                await asyncio.gather(
                    rc.send_then_leave(senders[v.index], text, v),
                    rc.watch(v, timeout),
                )
            else:
                v.sent_at, _ = await rc.send_message(v.ws, text)
                await rc.watch(v, timeout)

        async def floor(f: rc.FloorStream) -> None:
            await asyncio.sleep(delays[f.index])
            text = rc.message_text(f.index, load.tokens, load.rate)
            await rc.read_floor(session, api_url, f, text)

        burst_started = time.monotonic()
        await asyncio.gather(*(relay(v) for v in viewers), *(floor(f) for f in floors))
        stream_s = time.monotonic() - burst_started
        await asyncio.sleep(1.0)  # let the last saves land before reading the counters
        after = [(s.cpu(), s.statements()) for s in servers]
        stop_profiles(profilers)

        async with session.get(f"{sim_root}/_sim/requests") as r:
            log = await r.json()
    return {
        "viewers": viewers,
        "floors": floors,
        "log": log,
        "connect_s": connect_s,
        "stream_s": stream_s,
        "cpu": [after[i][0] - before[i][0] for i in range(len(servers))],
        "statements": [
            after[i][1]["statements"] - before[i][1]["statements"]
            for i in range(len(servers))
        ],
        "by_verb": _verb_difference(
            [b[1]["by_verb"] for b in before], [a[1]["by_verb"] for a in after]
        ),
    }


def _verb_difference(
    before: list[dict[str, int]], after: list[dict[str, int]]
) -> dict[str, int]:
    """Statements by verb in the window, summed over the processes."""
    total: dict[str, int] = {}
    for b, a in zip(before, after, strict=True):
        for verb, count in a.items():
            total[verb] = total.get(verb, 0) + count - b.get(verb, 0)
    return {verb: n for verb, n in sorted(total.items()) if n}


def upstream_starts(log: list[dict]) -> tuple[dict[int, float], dict[int, float]]:
    """`received_at` of each client's upstream request: (relay, floor), by index."""
    relay: dict[int, float] = {}
    floor: dict[int, float] = {}
    for entry in log:
        if not entry["path"].endswith("chat/completions") or not entry.get("json"):
            continue
        content = entry["json"]["messages"][-1]["content"]
        if isinstance(content, list):
            content = " ".join(
                p.get("text", "") for p in content if isinstance(p, dict)
            )
        index = rc.client_index(content)
        if index is None:
            continue
        is_floor = entry["headers"].get("authorization") == rc.FLOOR_AUTH
        (floor if is_floor else relay)[index] = entry["received_at"]
    return relay, floor


def measure(
    mode: str,
    load: Load,
    args: argparse.Namespace,
    env: dict,
    workdir: Path,
    sim_root: str,
    ends: dict[int, list[int]],
    web_server: str = "daphne",
) -> dict[str, Any]:
    if mode != "embedded":
        flush_redis(args.redis_url)
    two = load.split or mode == "redis-shared"
    extra = 2 if two else 1  # warm-up users, one per process
    fixtures = make_fixtures(env, load.clients + extra, rc.MODEL)
    calibration_before = calibration.loop_seconds()
    server_calibration_before = slow_machine.calibration_seconds()
    shared_port = free_port() if mode == "redis-shared" else None
    servers = [start_server("A", env, workdir, shared_port, web_server)]
    try:
        if two:
            servers.append(start_server("B", env, workdir, shared_port, web_server))
        raw = run_async(run_load(load, servers, fixtures, sim_root))
        rss = [s.peak_rss_mb() for s in servers]
        saturation_warnings = [s.saturation_warnings() for s in servers]
    finally:
        for server in servers:
            server.stop()
    bare = bare_read(load, sim_root) if args.bare else None
    calibration_after = calibration.loop_seconds()
    server_calibration_after = slow_machine.calibration_seconds()

    relay_at, floor_at = upstream_starts(raw["log"])
    offsets = rc.floor_offsets(raw["floors"], floor_at)
    offset = statistics.median(offsets) if offsets else 0.0
    starts = {i: t + offset for i, t in relay_at.items()}
    viewers = raw["viewers"]
    result: dict[str, Any] = {
        "mode": mode,
        "server": web_server,
        "clients": load.clients,
        "tokens": load.tokens,
        "rate": load.rate,
        "connect_s": round(raw["connect_s"], 2),
        "stream_s": round(raw["stream_s"], 2),
        "start_offset_ms": round(1000 * offset, 2),
        "relay": rc.viewer_figures(viewers, ends, starts, load.rate, load.tokens),
    }
    if load.floor:
        result["floor"] = rc.floor_figures(
            raw["floors"], floor_at, offset, load.rate, load.tokens
        )
    delivered = max(result["relay"]["delivered"], 1)
    result["cpu_s"] = [round(c, 3) for c in raw["cpu"]]
    result["cpu_per_1000"] = round(1000 * sum(raw["cpu"]) / delivered, 4)
    result["peak_rss_mb"] = [round(r, 1) for r in rss]
    result["saturation_warnings"] = saturation_warnings
    result["calibration_s"] = {
        "before": round(calibration_before, 3),
        "after": round(calibration_after, 3),
    }
    if server_calibration_before is not None:
        # The web processes ran under a CPU quota (--server-cpu-share): their speed.
        result["server_cpu_share"] = args.server_cpu_share
        result["server_calibration_s"] = {
            "before": round(server_calibration_before, 3),
            "after": round(server_calibration_after or 0, 3),
        }
    if bare is not None:
        result["bare_read"] = {
            "cpu_per_1000": bare["cpu_per_1000"] and round(bare["cpu_per_1000"], 4),
            "tokens": bare["tokens"],
            "offered": bare["offered"],
            "error_count": bare["error_count"],
        }
        if bare["cpu_per_1000"]:
            result["cpu_ratio_to_bare"] = round(
                result["cpu_per_1000"] / bare["cpu_per_1000"], 2
            )
    result["statements_per_reply"] = round(
        sum(raw["statements"]) / max(load.clients, 1), 2
    )
    result["statements_by_verb_per_reply"] = {
        verb: round(n / max(load.clients, 1), 2) for verb, n in raw["by_verb"].items()
    }
    if load.split:
        local = [v for v in viewers if v.index % 2 == 0]
        remote = [v for v in viewers if v.index % 2 == 1]
        result["relay_local"] = rc.viewer_figures(
            local, ends, starts, load.rate, load.tokens
        )
        result["relay_remote"] = rc.viewer_figures(
            remote, ends, starts, load.rate, load.tokens
        )
        remote_tokens = max(result["relay_remote"]["delivered"], 1)
        result["cpu_per_1000_a"] = round(1000 * raw["cpu"][0] / delivered, 4)
        result["cpu_per_1000_b_remote"] = round(1000 * raw["cpu"][1] / remote_tokens, 4)
    return result


def bare_read(load: Load, sim_root: str) -> dict[str, Any]:
    """Return client_transport.py's figures for the bare upstream read of this load:
    `load.clients` streams of the same length and rate in one process on the server
    core, through the app's default transport (aiohttp)."""
    shape = argparse.Namespace(streams=load.clients, tokens=load.tokens, rate=load.rate)
    return client_transport.run_child(
        "aiohttp", "uvloop", f"{sim_root}/api/paas/v4/", shape
    )


# --- Main -----------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="a named set of loads and modes (replaces --clients, --tokens, --rate, "
        "--modes; no statement runs unless --statement-tokens is given)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        nargs="*",
        default=[1, 100, 200],
        help="N of each measurement (none: only the statement runs)",
    )
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES[:3]))
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=("daphne", "uvicorn"),
        default=["daphne"],
        help="ASGI servers to measure (GLMWEB_WEB_SERVER), interleaved",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--server-cpu-share",
        type=float,
        help="run the web processes in a cgroup allowed this share of one core, to "
        "emulate a slower machine (benchmarks/slow_machine.py; root only)",
    )
    parser.add_argument("--tokens", type=int, default=200, help="tokens per reply")
    parser.add_argument("--rate", type=int, default=50, help="tokens/s per reply")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the direct simulator readers"
    )
    parser.add_argument(
        "--no-bare",
        dest="bare",
        action="store_false",
        help="skip the bare upstream read (client_transport.py) after each measurement",
    )
    parser.add_argument(
        "--statement-tokens",
        type=int,
        nargs="*",
        default=None,
        help="reply lengths of the statements-per-reply runs (none: skip them)",
    )
    parser.add_argument("--statement-clients", type=int, default=10)
    parser.add_argument("--statement-rate", type=int, default=50)
    parser.add_argument(
        "--statement-modes",
        nargs="+",
        choices=MODES[:2],
        default=list(MODES[:2]),
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/glmweb_bench"
    )
    parser.add_argument("--json-out", type=Path, help="write every result here")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record each measured window with py-spy (must be on PATH) into DIR",
    )
    parser.add_argument(
        "--keep-workdir", action="store_true", help="keep Daphne logs and SQLite files"
    )
    args = parser.parse_args()
    if args.preset:
        args.loads = PRESETS[args.preset]
        args.modes = PRESET_MODES[args.preset]
        if args.statement_tokens is None:
            args.statement_tokens = []
    else:
        args.loads = [(n, args.tokens, args.rate) for n in args.clients]
    if args.statement_tokens is None:
        args.statement_tokens = [30, 3000]
    return args


async def fetch_token_ends(sim_root: str, count: int, tokens: int) -> list[list[int]]:
    api_url = f"{sim_root}/api/paas/v4/chat/completions"
    gate = asyncio.Semaphore(16)
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> list[int]:
            async with gate:
                return await rc.token_ends(session, api_url, i, tokens)

        return await asyncio.gather(*(one(i) for i in range(count)))


def main() -> None:
    args = parse_args()
    if args.profile and not shutil.which("py-spy"):
        sys.exit("--profile needs py-spy on PATH (pip install py-spy)")
    if shutil.which("taskset"):
        subprocess.run(
            ["taskset", "-pc", str(CLIENT_CORE), str(os.getpid())],
            check=True,
            capture_output=True,
        )
    if args.server_cpu_share:
        slow_machine.enable(args.server_cpu_share)
    workdir = Path(tempfile.mkdtemp(prefix="glmweb-chat-relay-"))
    print(f"work folder (Daphne logs): {workdir}", flush=True)
    results: list[dict] = []
    try:
        with running_simulator() as simulator:
            sim_root = f"http://127.0.0.1:{simulator.port}"
            envs = {m: mode_env(m, args, simulator.port, workdir) for m in MODES}
            prepared = set()
            for mode in {
                *args.modes,
                *(args.statement_modes if args.statement_tokens else []),
            }:
                key = "embedded" if mode == "embedded" else "redis"
                if key not in prepared:
                    prepare_database(mode, envs[mode], args)
                    prepared.add(key)
            lengths = {t for _, t, _ in args.loads} | set(args.statement_tokens)
            most = max([*(n for n, _, _ in args.loads), args.statement_clients, 1])
            ends = {
                t: dict(enumerate(run_async(fetch_token_ends(sim_root, most, t))))
                for t in lengths
            }

            def record(result: dict) -> None:
                results.append(result)
                print(json.dumps(result), flush=True)
                if args.json_out:
                    args.json_out.write_text(json.dumps(results, indent=1))

            for run in range(args.runs):
                for n, tokens, rate in args.loads:
                    for mode in args.modes:
                        if mode == "redis-split" and n < 2:
                            continue  # every second viewer is remote: needs two
                        for server in args.servers:
                            load = Load(
                                n, tokens, rate, not args.no_floor,
                                mode == "redis-split",
                                args.profile / f"{mode}-{server}"
                                if args.profile else None,
                            )  # fmt: skip
                            print(
                                f"# run {run + 1}: {mode} on {server}, N={n}, "
                                f"{tokens} tokens at {rate}/s",
                                flush=True,
                            )
                            result = measure(
                                mode, load, args, envs[mode], workdir, sim_root,
                                ends[tokens], server,
                            )  # fmt: skip
                            result["run"] = run + 1
                            record(result)
            for tokens in args.statement_tokens:
                for mode in args.statement_modes:
                    load = Load(
                        args.statement_clients,
                        tokens,
                        args.statement_rate,
                        False,
                        False,
                    )
                    print(f"# statements: {mode}, {tokens} tokens", flush=True)
                    result = measure(
                        mode,
                        load,
                        args,
                        envs[mode],
                        workdir,
                        sim_root,
                        ends[tokens],
                        args.servers[0],
                    )
                    result["run"] = "statements"
                    record(result)
        print_tables(results, args)
    finally:
        if not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
