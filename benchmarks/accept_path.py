"""Accepting a message: the CPU and the statements from a message.send to the
upstream request (issue 14, item 3; docs/performance.md).

For each of N conversations, the same calls the reply engine makes for a message.send,
through the same async faces (chat.dbpool's writer and pool threads): save the turn
(chat.turns.asend_message), build message.created, prepare the context
(chat.history.aprepare_context) and the request options (chat.replies.runner). Three
kinds of conversation, N each: `new` (no messages yet), `ongoing` (three finished
rounds) and `character` (a character and a persona, a model that takes `meta`).

Printed per kind: process CPU ms per message (all threads; median of --rounds, each
round on fresh conversations), statements per message, and Python function calls
per message (a cProfile in every thread, deterministic: the number to compare across
commits on a busy machine). `--profile` prints the top functions by own time. DEBUG is
off (as in production) unless the environment sets it.

    .venv/bin/python benchmarks/accept_path.py --conversations 200 --rounds 5
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/glmweb_accept_bench \
        .venv/bin/python benchmarks/accept_path.py   # an empty database it may migrate
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
KINDS = ("new", "ongoing", "character")


def _setup() -> None:
    sys.path.insert(0, str(BASE_DIR))
    if not os.environ.get("DATABASE_URL"):
        os.environ["GLMWEB_VAR_DIR"] = tempfile.mkdtemp(prefix="accept-path-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DEBUG", "0")  # as in production: no query log
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _conversations(kind: str, count: int) -> list[tuple[str, int, dict]]:
    from django.contrib.auth import get_user_model

    from chat import conversation_settings
    from chat.models import Character, Conversation, Message, Persona

    user = get_user_model().objects.create_user(f"bench-{uuid.uuid4().hex[:12]}")
    fields: dict[str, object] = {"model": "glm-4-flash"}
    if kind == "character":
        character = Character.objects.create(
            owner=user,
            name="Lin Wei",
            description="A tea-house keeper in old Chengdu.",
            personality="Warm, curious.",
            greeting="Welcome in, {{user}}!",
            default_model="charglm-4",
        )
        persona = Persona.objects.create(owner=user, name="Ana", description="A guest.")
        fields = {"model": "charglm-4", "character": character, "persona": persona}
    ids = []
    for _ in range(count):
        conversation = Conversation.objects.create(owner=user, **fields)
        if kind == "ongoing":
            for index in range(3):
                Message.objects.create(
                    conversation=conversation, role="user", content=f"Question {index}"
                )
                Message.objects.create(
                    conversation=conversation,
                    role="assistant",
                    content=f"Answer {index} " * 20,
                    status="complete",
                )
        # The page sends every setting with every message (static/chat/settings.js).
        options = {
            name: getattr(conversation, name) for name in conversation_settings.FIELDS
        }
        ids.append((str(conversation.pk), user.pk, options))
    return ids


async def _accept(conversation_id: str, owner_id: int, options: dict) -> None:
    from chat import history, turns
    from chat.replies import protocol, runner

    turn = await turns.asend_message(
        conversation_id, owner_id, uuid.uuid4(), "How far is the moon?", options
    )
    protocol.message_created(turn)
    # As chat.replies.runner asks (`known` where the turn carries it).
    known = {"known": turn.history} if hasattr(turn, "history") else {}
    prepared = await history.aprepare_context(
        conversation_id,
        until_message_id=turn.reply_to_id,
        conversation=turn.conversation,
        **known,
    )
    runner._context(prepared, turn)
    runner.chat_options(turn.conversation)


async def _accept_all(conversations: list[tuple[str, int, dict]]) -> None:
    # One after another, as the writer takes them anyway: the CPU per message is the
    # measure, not the wall time of a burst.
    for conversation_id, owner_id, options in conversations:
        await _accept(conversation_id, owner_id, options)


class _Statements:
    """Count every SQL statement, in every thread."""

    def __init__(self) -> None:
        from django.db.backends import utils

        self.count = 0
        original = utils.CursorWrapper._execute_with_wrappers
        lock = threading.Lock()
        outer = self

        def counting(self, sql, params, many, executor):  # type: ignore[no-untyped-def]
            with lock:
                outer.count += 1
            return original(self, sql, params, many, executor)

        utils.CursorWrapper._execute_with_wrappers = counting  # type: ignore[method-assign]


class _Profiles:
    """A cProfile in every thread started from now on, in this one and in the
    SQLite writer's (started before, by the warm-up)."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []

    def _start_here(self, *_args: object) -> None:
        profile = cProfile.Profile()
        self.profiles.append(profile)
        profile.enable()  # replaces this bootstrap hook in the thread

    def start(self) -> None:
        from chat import dbpool

        threading.setprofile(self._start_here)
        self._start_here()
        self._writer = dbpool._sqlite_writer.submit(self._start_here)
        self._writer.result()
        self._writer_profile = self.profiles[-1]

    def stop(self) -> pstats.Stats:
        from chat import dbpool

        threading.setprofile(None)  # type: ignore[arg-type]
        # A profile stops in its own thread; the pool's threads are gone by now.
        dbpool._sqlite_writer.submit(self._writer_profile.disable).result()
        self.profiles[0].disable()
        stats = pstats.Stats(self.profiles[0])
        for profile in self.profiles[1:]:
            stats.add(profile)
        return stats


def _run_round(kind: str, count: int, statements: _Statements) -> tuple[float, int]:
    conversations = _conversations(kind, count)
    before_statements = statements.count
    started = time.process_time()
    asyncio.run(_accept_all(conversations))
    cpu = time.process_time() - started
    return cpu * 1000 / count, (statements.count - before_statements) / count


def _profiled(kind: str, count: int, show: int, order: str) -> dict[str, float]:
    conversations = _conversations(kind, count)
    profiles = _Profiles()
    profiles.start()
    asyncio.run(_accept_all(conversations))
    stats = profiles.stop()
    calls = stats.total_calls / count  # type: ignore[attr-defined]
    if show:
        print(f"--- {kind}: top {show} by {order}")
        stats.sort_stats(order).print_stats(show)
    return {"calls_per_message": round(calls, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--profile", type=int, default=0, metavar="TOP")
    parser.add_argument("--sort", default="tottime", help="pstats order for --profile")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    _setup()
    statements = _Statements()
    # Warm up: imports, the catalog, prepared statements, the threads.
    asyncio.run(_accept_all(_conversations("new", 20)))
    results = {}
    for kind in args.kinds.split(","):
        cpu, counted = [], []
        for _ in range(args.rounds):
            per_message_ms, per_message_statements = _run_round(
                kind, args.conversations, statements
            )
            cpu.append(per_message_ms)
            counted.append(per_message_statements)
        results[kind] = {
            "cpu_ms_per_message": round(statistics.median(cpu), 3),
            "cpu_ms_rounds": [round(value, 3) for value in cpu],
            "statements_per_message": statistics.median(counted),
            **_profiled(kind, args.conversations, args.profile, args.sort),
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("kind        CPU ms/message (rounds)                 statements  calls")
    for kind, row in results.items():
        rounds = ", ".join(f"{value:.2f}" for value in row["cpu_ms_rounds"])
        print(
            f"{kind:<11} {row['cpu_ms_per_message']:>6.2f} ({rounds})"
            f"  {row['statements_per_message']:>5.1f}  {row['calls_per_message']:>8.1f}"
        )


if __name__ == "__main__":
    main()
