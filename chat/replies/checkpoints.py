"""Checkpoints of streaming replies and the liveness of the processes that own them.

Neither lives in the database, so the statements a reply costs do not grow with its
length. Both must survive the owning process crashing. Every
GLMWEB_REPLY_CHECKPOINT_SECONDS a process writes, in one go, its heartbeat and the
checkpoint of each reply it is streaming (written off the event loop, and one write
whatever the number of replies: a write per reply cost a 200-reply burst 5% of its CPU
and spikes of latency, profiled):

- FileStore (embedded mode, no REDIS_URL): one file per process under
  `VAR_DIR/replies/`, `{"process", "beat", "replies": {message id: checkpoint}}`; its
  modification time is the heartbeat. A process on this host whose pid is gone counts
  as dead at once, so a restart recovers without waiting.
- RedisStore (REDIS_URL set): `glmweb:ckpt:<message id>` (kept a day) and
  `glmweb:alive:<process id>`, which expires GLMWEB_REPLY_STALE_SECONDS after the last
  beat. Processes on other machines share it.

A checkpoint is `{owner, conversation_id, message_id, seq, content, reasoning,
web_search, saved_at}`. I/O follows chat.dbpool's rule: FileStore reads and writes
its files in a thread (asyncio.to_thread), never on the event loop; RedisStore uses
redis-py's asyncio client.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import time
from pathlib import Path
from typing import Any, Protocol

import orjson
from django.conf import settings

CHECKPOINT_TTL_SECONDS = 24 * 3600


def new_process_id() -> str:
    """Return an id for this process: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


MEMORY_SINCE_KEY = "glmweb:since"


class Store(Protocol):
    async def write(self, checkpoints: list[dict[str, Any]]) -> None: ...
    async def load(self, message_id: int) -> dict[str, Any] | None: ...
    async def delete(self, message_id: int) -> None: ...
    async def is_alive(self, process_id: str) -> bool: ...
    async def memory_age(self) -> float: ...
    def forget(self) -> None: ...
    async def aclose(self) -> None: ...


class FileStore:
    """A file per process: its heartbeat and its replies' checkpoints."""

    def __init__(self, folder: Path, process_id: str) -> None:
        self.folder = folder
        self.process_id = process_id
        self.path = self._path(process_id)
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, process_id: str) -> Path:
        safe = process_id.replace(":", "_").replace("/", "_")
        return self.folder / f"process-{safe}.json"

    @staticmethod
    def _write_file(path: Path, data: bytes) -> None:
        temp = path.with_name(f".{path.name}.tmp")
        temp.write_bytes(data)
        os.replace(temp, path)  # atomic: a reader sees the old or the new file

    async def write(self, checkpoints: list[dict[str, Any]]) -> None:
        data = orjson.dumps(
            {
                "process": self.process_id,
                "beat": time.time(),
                "replies": {str(c["message_id"]): c for c in checkpoints},
            }
        )
        await asyncio.to_thread(self._write_file, self.path, data)

    def _files(self, skip: Path | None = None) -> list[dict[str, Any]]:
        found = []
        stale = time.time() - settings.GLMWEB_REPLY_STALE_SECONDS
        for path in self.folder.glob("process-*.json"):
            if path == skip:
                continue
            with contextlib.suppress(OSError, orjson.JSONDecodeError):
                entry = {"path": path, **orjson.loads(path.read_bytes())}
                if not entry.get("replies") and path.stat().st_mtime < stale:
                    path.unlink()  # a finished process with nothing to recover
                    continue
                found.append(entry)
        return found

    async def load(self, message_id: int) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._load, message_id)

    def _load(self, message_id: int) -> dict[str, Any] | None:
        for entry in self._files():
            checkpoint = entry.get("replies", {}).get(str(int(message_id)))
            if checkpoint is not None:
                return checkpoint
        return None

    async def delete(self, message_id: int) -> None:
        await asyncio.to_thread(self._delete, message_id)

    def _delete(self, message_id: int) -> None:
        # This process's own checkpoints go with its next write; a dead process's
        # file is rewritten without the recovered reply (and removed once empty).
        # Its own file is not even read: with many replies streaming it is the
        # largest, and every finished reply would parse it again.
        for entry in self._files(skip=self.path):
            replies = entry.get("replies", {})
            key = str(int(message_id))
            if key not in replies:
                continue
            del replies[key]
            with contextlib.suppress(OSError):
                if replies:
                    entry["path"].write_bytes(
                        orjson.dumps({k: v for k, v in entry.items() if k != "path"})
                    )
                else:
                    entry["path"].unlink()

    async def memory_age(self) -> float:
        """Files outlive every process: the store never forgets on its own."""
        return math.inf

    async def is_alive(self, process_id: str) -> bool:
        return await asyncio.to_thread(self._is_alive, process_id)

    def _is_alive(self, process_id: str) -> bool:
        try:
            age = time.time() - self._path(process_id).stat().st_mtime
        except FileNotFoundError:
            return False
        if age > settings.GLMWEB_REPLY_STALE_SECONDS:
            return False
        host, _, rest = process_id.partition(":")
        pid = rest.partition(":")[0]
        if host == socket.gethostname() and pid.isdigit():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
        return True

    def forget(self) -> None:
        """At exit: mark this process dead (its checkpoints stay for recovery)."""
        with contextlib.suppress(OSError):
            os.utime(self.path, (0, 0))

    async def aclose(self) -> None:
        await asyncio.to_thread(self.forget)


class RedisStore:
    """Checkpoints and heartbeats in Redis (an asyncio client from redis-py)."""

    def __init__(self, url: str, process_id: str) -> None:
        import redis.asyncio

        self.url = url
        self.process_id = process_id
        self.redis = redis.asyncio.Redis(
            connection_pool=redis.asyncio.BlockingConnectionPool.from_url(
                url, max_connections=8, timeout=None
            )
        )

    async def write(self, checkpoints: list[dict[str, Any]]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(
                f"glmweb:alive:{self.process_id}",
                b"1",
                ex=max(1, int(settings.GLMWEB_REPLY_STALE_SECONDS)),
            )
            # When this Redis's memory began: a restarted (empty) Redis has lost every
            # live process's checkpoints until they write again (memory_age).
            pipe.set(MEMORY_SINCE_KEY, str(time.time()), nx=True)
            for checkpoint in checkpoints:
                pipe.set(
                    f"glmweb:ckpt:{int(checkpoint['message_id'])}",
                    orjson.dumps(checkpoint),
                    ex=CHECKPOINT_TTL_SECONDS,
                )
            await pipe.execute()

    async def load(self, message_id: int) -> dict[str, Any] | None:
        raw = await self.redis.get(f"glmweb:ckpt:{int(message_id)}")
        return orjson.loads(raw) if raw else None

    async def delete(self, message_id: int) -> None:
        await self.redis.delete(f"glmweb:ckpt:{int(message_id)}")

    async def is_alive(self, process_id: str) -> bool:
        return bool(await self.redis.exists(f"glmweb:alive:{process_id}"))

    async def memory_age(self) -> float:
        """Return the seconds since this Redis began remembering (0: just now)."""
        since = await self.redis.get(MEMORY_SINCE_KEY)
        return max(0.0, time.time() - float(since)) if since else 0.0

    async def aclose(self) -> None:
        await self.redis.delete(f"glmweb:alive:{self.process_id}")
        await self.redis.aclose()

    def forget(self) -> None:
        """At exit: drop this process's heartbeat (a short synchronous call)."""
        import redis

        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(self.url, socket_timeout=1).delete(
                f"glmweb:alive:{self.process_id}"
            )


def open_store(process_id: str) -> Store:
    """Return the store for this deployment: Redis when REDIS_URL is set, else files."""
    if settings.REDIS_URL:
        return RedisStore(settings.REDIS_URL, process_id)
    return FileStore(Path(settings.VAR_DIR) / "replies", process_id)
