"""Benchmark: the floor every relay is measured against — streams read straight from
the simulator by plain aiohttp clients.

Starts the simulator pinned to the second core (when `taskset` exists); the clients run
in this process, pinned to the first. N clients start within one second (a burst, as
when many people press send together); each reads a T-token reply at R tokens/s with
`[[sim:stamp]]`, so every chunk carries the simulator's send time. Reports per-token
latency (receive time minus send time), time to first token, tokens/s delivered versus
offered, tokens lost, and the simulator's own CPU per 1,000 tokens.

    .venv/bin/python benchmarks/simulator_floor.py --clients 200 --tokens 200 --rate 50
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
import time

from measure import percentile, process_cpu_seconds, stamped_tokens
from simulator_process import running_simulator


async def one_client(session, url: str, tokens: int, rate: int, delay: float) -> dict:
    await asyncio.sleep(delay)
    body = {
        "model": "glm-4",
        "stream": True,
        "thinking": {"type": "disabled"},
        "messages": [
            {"role": "user", "content": f"[[sim:stamp,tokens={tokens},rate={rate}]]"}
        ],
    }
    started = time.time()
    latencies: list[float] = []
    first = last = None
    async with session.post(
        url, json=body, headers={"Authorization": "Bearer bench.key"}
    ) as r:
        async for now, sent_at in stamped_tokens(r):
            latencies.append(now - sent_at)
            if first is None:
                first = now
            last = now
    # Tokens per second as this client saw them arrive (the offered rate is `rate`).
    pace = (len(latencies) - 1) / (last - first) if last and last > first else None
    return {
        "latencies": latencies,
        "ttft": first - started if first else None,
        "tokens": len(latencies),
        "pace": pace,
    }


async def run_clients(url: str, clients: int, tokens: int, rate: int) -> dict:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm-up, outside the measurement.
        await one_client(session, url, 2, 0, 0)
        delays = [random.uniform(0, 1) for _ in range(clients)]
        started = time.monotonic()
        results = await asyncio.gather(
            *(one_client(session, url, tokens, rate, d) for d in delays)
        )
        wall = time.monotonic() - started
    latencies = [x for r in results for x in r["latencies"]]
    received = sum(r["tokens"] for r in results)
    ttfts = [r["ttft"] for r in results if r["ttft"] is not None]
    return {
        "received": received,
        "offered": clients * tokens,
        "wall_s": wall,
        "latency_ms": {p: 1000 * percentile(latencies, p) for p in (50, 95, 99)},
        "ttft_ms": {p: 1000 * percentile(ttfts, p) for p in (50, 95)},
        "stream_tokens_per_s": statistics.median(
            r["pace"] for r in results if r["pace"]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with running_simulator() as simulator:
        if shutil.which("taskset"):
            subprocess.run(
                ["taskset", "-pc", "0", str(os.getpid())],
                check=True,
                capture_output=True,
            )
        url = f"http://127.0.0.1:{simulator.port}/api/paas/v4/chat/completions"
        runs = []
        for run in range(args.runs):
            cpu_before = process_cpu_seconds(simulator.pid)
            result = asyncio.run(run_clients(url, args.clients, args.tokens, args.rate))
            cpu = process_cpu_seconds(simulator.pid) - cpu_before
            result["sim_cpu_per_1000"] = 1000 * cpu / max(result["received"], 1)
            runs.append(result)
            print(f"run {run + 1}: {json.dumps(result)}", flush=True)

        def med(get) -> float:
            return statistics.median(get(r) for r in runs)

        print()
        print(
            f"clients={args.clients} tokens={args.tokens} rate={args.rate}/s "
            f"runs={args.runs} (medians)"
        )
        print(
            "| p50 / p95 / p99 latency (ms) | TTFT p50 / p95 (ms) "
            "| tokens/s per stream delivered / offered | lost "
            "| simulator CPU-s per 1,000 tokens |"
        )
        print("| --- | --- | --- | --- | --- |")
        print(
            f"| {med(lambda r: r['latency_ms'][50]):.1f} / "
            f"{med(lambda r: r['latency_ms'][95]):.1f} / "
            f"{med(lambda r: r['latency_ms'][99]):.1f} "
            f"| {med(lambda r: r['ttft_ms'][50]):.0f} / "
            f"{med(lambda r: r['ttft_ms'][95]):.0f} "
            f"| {med(lambda r: r['stream_tokens_per_s']):.1f} / {args.rate} "
            f"| {med(lambda r: r['offered'] - r['received']):.0f} "
            f"| {med(lambda r: r['sim_cpu_per_1000']):.4f} |"
        )


if __name__ == "__main__":
    main()
