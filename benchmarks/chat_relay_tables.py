"""The chat relay benchmark's Markdown tables: medians over runs of each mode and load
(N, tokens per reply, tokens/s), with the machine's calibration beside them."""

from __future__ import annotations

import argparse
import statistics
from typing import Any


def med(results: list[dict], *path: Any) -> float | None:
    values = []
    for r in results:
        value: Any = r
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
            if value is None:
                break
        if isinstance(value, list):
            value = sum(value)
        if value is not None:
            values.append(value)
    return statistics.median(values) if values else None


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def print_tables(results: list[dict], args: argparse.Namespace) -> None:
    servers = {r.get("server", "daphne") for r in results}

    def mode(r: dict) -> str:
        """The mode, and the server when the results hold more than one."""
        if len(servers) == 1:
            return r["mode"]
        return f"{r['mode']} ({r.get('server', 'daphne')})"

    groups: dict[tuple[str, int, int, int], list[dict]] = {}
    for r in results:
        if r["run"] == "statements":
            continue
        groups.setdefault((mode(r), r["clients"], r["tokens"], r["rate"]), []).append(r)
    statement_runs: dict[tuple[str, int, int, int], list[dict]] = {}
    for r in results:
        if r["run"] == "statements":
            key = (mode(r), r["clients"], r["tokens"], r["rate"])
            statement_runs.setdefault(key, []).append(r)
    print_machine(groups)
    print()
    print("Latency (medians of runs; ms)")
    print(
        "| mode | N | tokens at /s | runs | per-token latency p50 / p95 / p99 "
        "| floor p50 / p95 / p99 "
        "| added p50 / p95 / p99 | newest token of frame p99 | TTFT p50 / p95 "
        "| floor TTFT p50 / p95 | TTFT overhead p50 / p95 | schedule error p99 |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (mode, n, tokens, rate), rs in groups.items():
        rl = [med(rs, "relay", "latency_ms", f"p{p}") for p in (50, 95, 99)]
        fl = [med(rs, "floor", "latency_est_ms", f"p{p}") for p in (50, 95, 99)]
        added = [
            None if x is None or y is None else x - y
            for x, y in zip(rl, fl, strict=True)
        ]
        rt = [med(rs, "relay", "ttft_ms", f"p{p}") for p in (50, 95)]
        ft = [med(rs, "floor", "ttft_ms", f"p{p}") for p in (50, 95)]
        over = [
            None if x is None or y is None else x - y
            for x, y in zip(rt, ft, strict=True)
        ]
        print(
            f"| {mode} | {n} | {tokens} at {rate} | {len(rs)} "
            f"| {' / '.join(fmt(x) for x in rl)} "
            f"| {' / '.join(fmt(x) for x in fl)} | {' / '.join(fmt(x) for x in added)} "
            f"| {fmt(med(rs, 'relay', 'newest_ms', 'p99'))} "
            f"| {' / '.join(fmt(x, 0) for x in rt)} "
            f"| {' / '.join(fmt(x, 0) for x in ft)} "
            f"| {' / '.join(fmt(x, 0) for x in over)} "
            f"| {fmt(med(rs, 'floor', 'schedule_error_ms', 'p99'))} |"
        )
    print()
    print("Throughput and cost (medians of runs)")
    print(
        "| mode | N | tokens/reply | tokens/s per stream p50 (p5) / offered "
        "| lost | failed replies | frames/reply | server CPU-s per 1,000 tokens "
        "| peak RSS MB | DB statements per reply |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (label, n, tokens, _rate), rs in [*groups.items(), *statement_runs.items()]:
        cpu = fmt(med(rs, "cpu_per_1000"), 4)
        if rs[0]["mode"] == "redis-split":
            cpu += (
                f" (A {fmt(med(rs, 'cpu_per_1000_a'), 4)}, B per remote token "
                f"{fmt(med(rs, 'cpu_per_1000_b_remote'), 4)})"
            )
        rss = " + ".join(
            fmt(statistics.median(r["peak_rss_mb"][i] for r in rs), 0)
            for i in range(len(rs[0]["peak_rss_mb"]))
        )
        print(
            f"| {label} | {n} | {tokens} | {fmt(med(rs, 'relay', 'pace_p50'))} "
            f"({fmt(med(rs, 'relay', 'pace_p5'))}) / {rs[0]['rate']} "
            f"| {fmt(med(rs, 'relay', 'lost'), 0)} "
            f"| {fmt(med(rs, 'relay', 'failed'), 0)} "
            f"| {fmt(med(rs, 'relay', 'frames_per_reply'))} | {cpu} | {rss} "
            f"| {fmt(med(rs, 'statements_per_reply'))} |"
        )
    if any(r["mode"] == "redis-split" for r in results):
        print()
        print("redis-split: viewers on A (local) and on B (remote), medians (ms)")
        print(
            "| mode, N | viewers | per-token p50 / p95 / p99 | TTFT p50 / p95 | lost |"
        )
        print("| --- | --- | --- | --- | --- |")
        for (label, n, _tokens, _rate), rs in groups.items():
            if rs[0]["mode"] != "redis-split":
                continue
            for side in ("relay_local", "relay_remote"):
                lat = [med(rs, side, "latency_ms", f"p{p}") for p in (50, 95, 99)]
                ttft = [med(rs, side, "ttft_ms", f"p{p}") for p in (50, 95)]
                print(
                    f"| {label}, {n} | {side.split('_')[1]} "
                    f"| {' / '.join(fmt(x) for x in lat)} "
                    f"| {' / '.join(fmt(x, 0) for x in ttft)} "
                    f"| {fmt(med(rs, side, 'lost'), 0)} |"
                )


def print_machine(groups: dict[tuple[str, int, int, int], list[dict]]) -> None:
    """The machine beside the cost: calibration loop before and after, the bare
    upstream read of the same run, and the relay's CPU as a ratio to it (issue 14's
    target: at most 1.5 at N = 200)."""
    print()
    print("Machine and cost against the bare upstream read (medians of runs)")
    print(
        "| mode | N | tokens at /s | calibration before / after s "
        "| bare read CPU-s per 1,000 tokens | relay CPU-s per 1,000 tokens "
        "| relay / bare | saturated warnings |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for (mode, n, tokens, rate), rs in groups.items():
        warnings = med(rs, "saturation_warnings")
        # Under --server-cpu-share the servers' own (emulated) speed follows.
        servers = (
            f" (servers {fmt(med(rs, 'server_calibration_s', 'before'), 3)} / "
            f"{fmt(med(rs, 'server_calibration_s', 'after'), 3)})"
            if any("server_calibration_s" in r for r in rs)
            else ""
        )
        print(
            f"| {mode} | {n} | {tokens} at {rate} "
            f"| {fmt(med(rs, 'calibration_s', 'before'), 3)} / "
            f"{fmt(med(rs, 'calibration_s', 'after'), 3)}{servers} "
            f"| {fmt(med(rs, 'bare_read', 'cpu_per_1000'), 4)} "
            f"| {fmt(med(rs, 'cpu_per_1000'), 4)} "
            f"| {fmt(med(rs, 'cpu_ratio_to_bare'), 2)} | {fmt(warnings, 0)} |"
        )
