"""How the chat's async code does I/O: the one rule of the reply path.

Nothing blocks the event loop, and nothing queues on Django's one shared ORM thread:

- Database reads run in the loop's thread pool (`in_pool`); writes through
  `in_writer` (the pool on PostgreSQL, the one SQLite writer thread on SQLite). Each
  is a plain sync function, a complete unit of work, wrapped once at module level
  (`aget_message = dbpool.in_pool(get_message)`). Django's async ORM (`aget`,
  `acreate`, `aupdate`, ...) is not used there: it runs every call on one shared
  thread (`sync_to_async`'s default), so a burst of sends (many users pressing send
  together) queues each call behind every other, and its SQLite writes would bypass
  the writer thread and wait on each other's lock.
- Files are read and written in a thread (`asyncio.to_thread`), as
  chat.replies.checkpoints does.
- The network is reached through asyncio clients only (glmweb.zhipu's httpx client,
  redis-py's asyncio client).

chat.turns, chat.history, chat.titles, chat.summaries and chat.replies follow it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.db import connections

# SQLite lets one writer in at a time, and a writer that finds the lock taken sleeps in
# SQLite's busy handler (steps of up to 100 ms) before trying again: a burst of sends
# from several threads cost 150-300 ms at p95. Writes from one thread never wait on
# each other's lock.
_sqlite_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")


def in_pool(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return an async twin of `func` run in a pool thread with its own connection.

    Stale connections are closed before and after each call, as Channels does for
    consumers. On PostgreSQL the calls run in parallel; SQLite still takes its writers
    one at a time (WAL lets readers run beside them).
    """
    return DatabaseSyncToAsync(func, thread_sensitive=False)


def in_writer(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return an async twin of `func`, a write transaction: in the pool on
    PostgreSQL, on the one SQLite writer thread with SQLite."""
    pooled = DatabaseSyncToAsync(func, thread_sensitive=False)
    serial = DatabaseSyncToAsync(func, thread_sensitive=False, executor=_sqlite_writer)

    async def run(*args: Any, **kwargs: Any) -> Any:
        if connections["default"].vendor == "sqlite":
            return await serial(*args, **kwargs)
        return await pooled(*args, **kwargs)

    return run
