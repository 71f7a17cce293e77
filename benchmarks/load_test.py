"""Load test: N simulated users for D minutes against the whole stack on loopback.

Two Daphne processes (users split between them), one Celery worker with beat, Redis
(a database number of the machine's server, flushed first), a fresh PostgreSQL
database, and the GLM simulator as the platform. Each user signs up, logs in, chats
with think time, now and then uploads an image and asks about it, and now and then
queues a video (benchmarks/load_users.py). Reported: requests and error rate per
action, p50/p95/p99 latency, CPU and RSS of every process, and a check that every
message sent and every reply that finished is in the database afterwards.

    .venv/bin/python benchmarks/load_test.py --users 200 --minutes 10

Writes var/load/load-<time>.json and .md (--out) and prints the markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis
from load_users import Record, User
from measure import percentile, process_cpu_seconds
from simulator_process import BASE_DIR, free_port, running_simulator

ACTIONS = (
    "signup",
    "login",
    "create_conversation",
    "ws_connect",
    "chat_first_text",
    "chat_reply",
    "upload",
    "vision_reply",
    "video_queue",
)
APP_VARS = {"REDIS_URL", "DATABASE_URL", "CELERY_BROKER_URL", "ZHIPUAI_API_KEY"}


@dataclass
class Proc:
    name: str
    process: subprocess.Popen
    port: int = 0
    cpu_start: float = 0.0
    rss_peak_mb: float = 0.0


def tree(pid: int) -> list[int]:
    """Return `pid` and its descendants (Celery's embedded beat is a child)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in tree(pid):
        try:
            total += process_cpu_seconds(member)
        except OSError:
            pass
    return total


def rss_mb(pid: int) -> float:
    total = 0.0
    for member in tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def fresh_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def app_env(args: argparse.Namespace, sim_port: int, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in APP_VARS}
    env.update(
        DJANGO_SETTINGS_MODULE="glmweb.settings",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        ZHIPUAI_BASE_URL=f"http://127.0.0.1:{sim_port}/api/paas/v4/",
        ZHIPUAI_API_KEY="test-id.test-secret",
        GLMWEB_VAR_DIR=str(workdir),
        MEDIA_ROOT=str(workdir / "media"),
        GLMWEB_AUTO_TITLE="off",
        DEBUG="0",
        PYTHONUNBUFFERED="1",
        # Every simulated user comes from 127.0.0.1 and acts faster than a person.
        GLMWEB_SIGNUPS_PER_ADDRESS="1000000",
        GLMWEB_LOGIN_FAILURES_PER_ADDRESS="1000000",
        GLMWEB_MESSAGES_PER_MINUTE="1000",
        VIDEO_MAX_IN_FLIGHT="50",
    )
    if args.conn_max_age is not None:
        env["DATABASE_CONN_MAX_AGE"] = args.conn_max_age
    return env


def start_daphne(name: str, env: dict[str, str], workdir: Path) -> Proc:
    port = free_port()
    with open(workdir / f"{name}.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "glmweb.serve", "-b", "127.0.0.1", "-p", str(port),
             "glmweb.asgi:application"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return Proc(name, process, port)
        except OSError as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                log = workdir / f"{name}.log"
                raise RuntimeError(f"{name} did not start; see {log}") from exc
            time.sleep(0.2)


def start_worker(env: dict[str, str], workdir: Path) -> Proc:
    log_path = workdir / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "glmweb", "worker", "--beat",
             f"--schedule={workdir / 'beat-schedule'}", "--pool=threads",
             "--concurrency=4", "--loglevel=INFO", "--without-gossip",
             "--without-mingle"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while b" ready." not in log_path.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start; see {log_path}")
        time.sleep(0.2)
    return Proc("celery worker", process)


def connect(url: str, timeout: float = 60) -> psycopg.Connection:
    """Connect, waiting while the server is full (it is shared with other work)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return psycopg.connect(url)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


async def sample(
    procs: list[Proc], stop: asyncio.Event, url: str, peaks: dict[str, int]
) -> None:
    name = url.rsplit("/", 1)[1]
    while not stop.is_set():
        for proc in procs:
            proc.rss_peak_mb = max(proc.rss_peak_mb, rss_mb(proc.process.pid))
        try:
            with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres") as db:
                (now,) = db.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
                ).fetchone()
                (total,) = db.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = %s",
                    ("client backend",),
                ).fetchone()
            peaks["app"] = max(peaks.get("app", 0), now)
            peaks["server"] = max(peaks.get("server", 0), total)
        except psycopg.OperationalError:
            peaks["sample_refused"] = peaks.get("sample_refused", 0) + 1
        try:
            await asyncio.wait_for(stop.wait(), timeout=2)
        except TimeoutError:
            pass


async def drive(args: argparse.Namespace, bases: list[str], run: str) -> Record:
    record = Record()
    deadline = time.monotonic() + args.minutes * 60
    users = [User(i, bases[i % len(bases)], record, run) for i in range(args.users)]

    async def start(user: User) -> None:
        # Arrivals spread over the ramp, as people arrive, not one burst.
        await asyncio.sleep(random.uniform(0, args.ramp))  # noqa: S311
        await user.run(deadline, (args.think_min, args.think_max))

    await asyncio.gather(*(start(user) for user in users))
    return record


def check_database(url: str, record: Record) -> dict[str, Any]:
    """Return what the database lacks of what the users sent and were shown."""
    with connect(url) as db:
        rows = db.execute(
            "SELECT u.username, m.content FROM chat_message m"
            " JOIN chat_conversation c ON c.id = m.conversation_id"
            " JOIN auth_user u ON u.id = c.owner_id"
            " WHERE m.role = 'user' AND u.username = ANY(%s)",
            (record.usernames,),
        ).fetchall()
        stored = Counter((name, content) for name, content in rows)
        missing_sent = Counter(record.sent) - stored
        replies = dict(
            db.execute(
                "SELECT id, content FROM chat_message"
                " WHERE id = ANY(%s) AND status = 'complete'",
                ([mid for mid, _ in record.finished],),
            ).fetchall()
        )
        jobs = dict(
            db.execute(
                "SELECT j.status, count(*) FROM media_jobs_videojob j"
                " JOIN auth_user u ON u.id = j.owner_id"
                " WHERE u.username = ANY(%s) GROUP BY j.status",
                (record.usernames,),
            ).fetchall()
        )
    mismatched = [m for m, content in record.finished if replies.get(m) != content]
    return {
        "messages_sent": len(record.sent),
        "messages_missing": sum(missing_sent.values()),
        "replies_finished": len(record.finished),
        "replies_missing_or_different": len(mismatched),
        "video_jobs_by_status": jobs,
    }


def wait_for_jobs(url: str, record: Record, timeout: float) -> None:
    """Give queued videos time to finish before the check (the worker keeps going)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connect(url) as db:
            (open_jobs,) = db.execute(
                "SELECT count(*) FROM media_jobs_videojob j"
                " JOIN auth_user u ON u.id = j.owner_id"
                " WHERE u.username = ANY(%s)"
                " AND j.status NOT IN ('succeeded', 'failed', 'cancelled')",
                (record.usernames,),
            ).fetchone()
        if not open_jobs:
            return
        time.sleep(1)


def summarise(
    args: argparse.Namespace, record: Record, procs: list[Proc], wall: float, db: dict
) -> dict[str, Any]:
    actions = {}
    for action in ACTIONS:
        times = record.latencies.get(action, [])
        errors = record.errors.get(action, [])
        attempts = len(times) + len(errors)
        actions[action] = {
            "ok": len(times),
            "errors": len(errors),
            "error_rate": len(errors) / attempts if attempts else 0.0,
            **{
                f"p{p}_ms": round(1000 * v, 1) if (v := percentile(times, p)) else None
                for p in (50, 95, 99)
            },
            "sample_errors": sorted(Counter(errors).items(), key=lambda kv: -kv[1])[:3],
        }
    total_ok = sum(a["ok"] for a in actions.values())
    total_errors = sum(a["errors"] for a in actions.values())
    return {
        "users": args.users,
        "minutes": args.minutes,
        "wall_seconds": round(wall, 1),
        "cores": os.cpu_count(),
        "error_rate": total_errors / max(1, total_ok + total_errors),
        "actions": actions,
        "processes": {
            p.name: {
                "cpu_percent": round(
                    100 * (cpu_seconds(p.process.pid) - p.cpu_start) / wall, 1
                ),
                "peak_rss_mb": round(p.rss_peak_mb, 1),
            }
            for p in procs
        },
        "database": db,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"{result['users']} users, {result['minutes']} min "
        f"({result['wall_seconds']} s wall, {result['cores']} cores); "
        f"error rate {100 * result['error_rate']:.2f} %",
        "",
        "| Action | OK | Errors | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, a in result["actions"].items():
        lines.append(
            f"| {name} | {a['ok']} | {a['errors']} | {a['p50_ms']} | {a['p95_ms']} "
            f"| {a['p99_ms']} |"
        )
    lines += ["", "| Process | CPU % (of one core) | Peak RSS MB |", "|---|---:|---:|"]
    for name, p in result["processes"].items():
        lines.append(f"| {name} | {p['cpu_percent']} | {p['peak_rss_mb']} |")
    peaks = result.get("postgres_connections_peak", {})
    lines += [
        "",
        f"PostgreSQL connections, peak: {peaks.get('app')} held by the app, "
        f"{peaks.get('server')} on the whole server.",
    ]
    db = result["database"]
    if not db:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        f"Database check: {db['messages_sent']} messages sent, "
        f"{db['messages_missing']} missing; {db['replies_finished']} replies "
        f"finished, {db['replies_missing_or_different']} missing or different; "
        f"video jobs {db['video_jobs_by_status']}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--ramp", type=float, default=30, help="arrival spread, s")
    parser.add_argument("--think-min", type=float, default=5)
    parser.add_argument("--think-max", type=float, default=15)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/glmweb_load"
    )
    parser.add_argument("--out", default=str(BASE_DIR / "var" / "load"))
    parser.add_argument(
        "--conn-max-age",
        default=None,
        help="DATABASE_CONN_MAX_AGE for the app (default: the app's own)",
    )
    args = parser.parse_args()
    args.ramp = min(args.ramp, args.minutes * 60 / 2)
    args.started = time.strftime("%Y%m%d-%H%M%S")

    workdir = Path(tempfile.mkdtemp(prefix="glmweb-load-"))
    (workdir / "media").mkdir()
    fresh_database(args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    run = time.strftime("%H%M%S")
    with running_simulator("--token-rate", "50", "--video-seconds", "5") as sim:
        env = app_env(args, sim.port, workdir)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=BASE_DIR, env=env, check=True,
        )  # fmt: skip
        procs: list[Proc] = []
        try:
            procs.append(start_daphne("daphne A", env, workdir))
            procs.append(start_daphne("daphne B", env, workdir))
            procs.append(start_worker(env, workdir))
            procs.append(Proc("simulator", sim))
            for proc in procs:
                proc.cpu_start = cpu_seconds(proc.process.pid)
            bases = [f"http://127.0.0.1:{p.port}" for p in procs[:2]]
            print(f"{args.users} users for {args.minutes} min; logs in {workdir}")
            started = time.monotonic()

            peaks: dict[str, int] = {}

            async def run_all() -> Record:
                stop = asyncio.Event()
                sampler = asyncio.create_task(
                    sample(procs, stop, args.database_url, peaks)
                )
                try:
                    return await drive(args, bases, run)
                finally:
                    stop.set()
                    await sampler

            record = asyncio.run(run_all())
            wall = time.monotonic() - started
            usage = procs  # read CPU before waiting for the videos
            result = summarise(args, record, usage, wall, {})
            result["postgres_connections_peak"] = peaks
            write(args, result, "partial")  # kept even if the check below fails
            wait_for_jobs(args.database_url, record, timeout=60)
            result["database"] = check_database(args.database_url, record)
        finally:
            for proc in procs[:3]:
                proc.process.terminate()
            for proc in procs[:3]:
                try:
                    proc.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.process.kill()
    text = markdown(result)
    stem = write(args, result, "")
    print(text)
    print(f"written: {stem}.json, {stem}.md")


def write(args: argparse.Namespace, result: dict[str, Any], tag: str) -> Path:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"load-{args.started}{'-' + tag if tag else ''}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2))
    stem.with_suffix(".md").write_text(markdown(result))
    return stem


if __name__ == "__main__":
    main()
