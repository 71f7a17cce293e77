"""Benchmark: CPU cost of the async client's streaming read, per transport.

Starts the simulator (pinned to the second core when `taskset` exists), then for each
run and each transport (interleaved, so drift hits both alike) starts a new client
process pinned to the first core that opens N concurrent `zhipu.astream_chat` streams
of T tokens at R tokens/s and reports its own CPU seconds per 1,000 tokens received.

    .venv/bin/python benchmarks/client_transport.py \\
        --streams 200 --tokens 200 --rate 50 --runs 5

Results go to docs/performance.md by hand, with the machine they ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from simulator_process import pinned, running_simulator

BASE_DIR = Path(__file__).resolve().parent.parent


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def one_stream(
    zhipu, tokens: int, rate: int, index: int
) -> tuple[int, str | None]:
    received = 0
    text = f"[[sim:tokens={tokens},rate={rate}]] stream {index}"
    try:
        async for delta in zhipu.astream_chat(
            [{"role": "user", "content": text}], model="glm-4"
        ):
            if delta.content:
                received += 1
    except zhipu.GLMError as exc:
        return received, f"{type(exc).__name__}: {exc}"
    return received, None


async def child_main(streams: int, tokens: int, rate: int) -> dict:
    import django

    django.setup()
    from glmweb import zhipu

    # Warm the pool and the code paths once, outside the measurement.
    await one_stream(zhipu, 2, 0, -1)
    cpu_before, wall_before = cpu_seconds(), time.monotonic()
    results = await asyncio.gather(
        *(one_stream(zhipu, tokens, rate, i) for i in range(streams))
    )
    cpu, wall = cpu_seconds() - cpu_before, time.monotonic() - wall_before
    await zhipu.aclose_clients()
    received = sum(count for count, _ in results)
    errors = [error for _, error in results if error]
    return {
        "tokens": received,
        "offered": streams * tokens,
        "cpu_s": cpu,
        "wall_s": wall,
        "cpu_per_1000": 1000 * cpu / received if received else None,
        "errors": errors[:3],
        "error_count": len(errors),
    }


def run_child(
    transport: str, loop: str, base_url: str, args: argparse.Namespace
) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "glmweb.settings",
        "ZHIPUAI_API_KEY": "bench-id.bench-secret",
        "ZHIPUAI_BASE_URL": base_url,
        "ZHIPUAI_ASYNC_TRANSPORT": transport,
        "ZHIPUAI_MAX_RETRIES": "0",
    }
    argv = [
        sys.executable,
        __file__,
        "--child",
        "--loop",
        loop,
        "--streams",
        str(args.streams),
        "--tokens",
        str(args.tokens),
        "--rate",
        str(args.rate),
    ]
    out = subprocess.run(
        pinned(0, argv),
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transports", default="aiohttp,httpx")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    sys.path.insert(0, str(BASE_DIR))
    if args.child:
        if args.loop == "uvloop":
            import uvloop

            uvloop.install()
        print(json.dumps(asyncio.run(child_main(args.streams, args.tokens, args.rate))))
        return

    with running_simulator("--token-rate", str(args.rate)) as simulator:
        base_url = f"http://127.0.0.1:{simulator.port}/api/paas/v4/"
        transports = args.transports.split(",")
        samples: dict[str, list[dict]] = {t: [] for t in transports}
        for run in range(args.runs):
            for transport in transports:
                result = run_child(transport, args.loop, base_url, args)
                samples[transport].append(result)
                print(f"run {run + 1} {transport:8} {json.dumps(result)}", flush=True)
        print()
        print(
            f"streams={args.streams} tokens={args.tokens} rate={args.rate}/s "
            f"loop={args.loop} runs={args.runs}"
        )
        print(
            "| transport | CPU-s per 1,000 tokens (median) | range "
            "| tokens received / offered |"
        )
        print("| --- | --- | --- | --- |")
        for transport, results in samples.items():
            per = [r["cpu_per_1000"] for r in results if r["cpu_per_1000"]]
            got = statistics.median(r["tokens"] for r in results)
            low, high = min(per), max(per)
            print(
                f"| {transport} | {statistics.median(per):.4f} | {low:.4f}–{high:.4f} "
                f"| {got:.0f} / {results[0]['offered']} |"
            )


if __name__ == "__main__":
    main()
