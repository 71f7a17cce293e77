"""The cross-process relay: Redis pub/sub (redis-py asyncio), used only with REDIS_URL.

One channel per conversation, `glmweb:chat:<conversation id>`, subscribed by every
process that has a socket open on it or owns its streaming reply, and one every
process subscribes to, `glmweb:chat:users` (Kind.SESSIONS). A message is
`<sender process id>|<kind>|<payload>`, the kind one letter of `Kind`. A message of a
kind this process does not know (a newer process during a rolling deploy) is logged
and skipped.

Everything a process publishes goes through one queue and one pipeline at a time, so
the order it published in is the order every subscriber receives. Frames are never
sent through channels_redis' RedisChannelLayer (see issue 3's measurements).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

PREFIX = "glmweb:chat:"


class Kind(enum.Enum):
    """What a relay message carries; the value is its letter on the wire."""

    # A reply.delta frame (JSON bytes, sent to sockets as they are); the owner
    # publishes frames only while another process is subscribed (PUBSUB NUMSUB > 1).
    FRAME = b"F"
    # Any other frame for every socket (message.created, reply.end, ...): JSON
    # {language: frame text} (chat.replies.protocol.Frames).
    EVENT = b"E"
    # A reply.snapshot frame, answering SNAPSHOT_REQUEST.
    SNAPSHOT = b"P"
    # "Send me a snapshot": a socket joined a reply owned elsewhere.
    SNAPSHOT_REQUEST = b"Q"
    # "Stop the reply" (payload: its message id, or empty for whichever streams).
    STOP = b"S"
    # "Sockets of this user: check your sessions" (payload: `<user id>` or
    # `<user id>:<digest of a session that ended>`), on the USERS channel that every
    # process subscribes to (chat.socket_sessions).
    SESSIONS = b"U"


# A dict lookup per received message (cheaper than calling Kind(letter)).
_KINDS = {kind.value: kind for kind in Kind}


# Not a conversation: the channel of messages for every process (Kind.SESSIONS).
USERS = "users"


def sessions_payload(user_id: int, ended_session: str = "") -> bytes:
    """Return a Kind.SESSIONS message: the user whose sockets should check their
    sessions, and the digest of a session that ended (closed without a check)."""
    return f"{user_id}:{ended_session}".encode()


def parse_sessions_payload(payload: bytes) -> tuple[int, str]:
    """Return (user id, ended session digest or "") of a Kind.SESSIONS message."""
    user_id, _, ended = payload.decode().partition(":")
    return int(user_id), ended


def channel(conversation_id: str) -> str:
    return PREFIX + conversation_id


def publish_once(url: str, conversation_id: str, kind: Kind, payload: bytes) -> None:
    """Publish one message from a process with no relay running (sync: a signal in
    a process that has no socket open), signed by no process."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.publish(channel(conversation_id), b"|".join((b"-", kind.value, payload)))
    finally:
        client.close()


class Relay:
    """A process's pub/sub connection, its subscriptions and its publish queue."""

    def __init__(
        self,
        url: str,
        process_id: str,
        on_message: Callable[[str, Kind, bytes], Awaitable[None]],
    ) -> None:
        import redis.asyncio

        self.process_id = process_id
        self._me = process_id.encode()
        # A bounded pool: a burst of replies waits for a connection instead of
        # opening hundreds.
        self.redis = redis.asyncio.Redis(
            connection_pool=redis.asyncio.BlockingConnectionPool.from_url(
                url, max_connections=16, timeout=None
            )
        )
        self._pubsub = self.redis.pubsub()
        self._on_message = on_message
        self._joined: dict[str, int] = {}
        self._outbox: list[tuple[str, bytes]] = []
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    async def start(self) -> None:
        # A channel of its own keeps the subscription (and the reader) alive even
        # while this process follows no conversation.
        await self._pubsub.subscribe(
            PREFIX + "process:" + self.process_id, channel(USERS)
        )
        self._tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._publish_loop()),
        ]

    async def close(self) -> None:
        self._closed = True
        self._wakeup.set()
        for task in self._tasks:
            task.cancel()
        # redis-py can swallow a cancellation inside a command; the loops also stop
        # on _closed, and nothing here waits for ever.
        await asyncio.wait(self._tasks, timeout=2)
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
            await self.redis.aclose()

    async def join(self, conversation_id: str) -> None:
        count = self._joined.get(conversation_id, 0)
        self._joined[conversation_id] = count + 1
        if count == 0:
            await self._pubsub.subscribe(channel(conversation_id))

    async def leave(self, conversation_id: str) -> None:
        count = self._joined.get(conversation_id, 0) - 1
        if count > 0:
            self._joined[conversation_id] = count
            return
        self._joined.pop(conversation_id, None)
        await self._pubsub.unsubscribe(channel(conversation_id))

    def publish(self, conversation_id: str, kind: Kind, payload: bytes = b"") -> None:
        """Queue a message; the publisher task sends queued messages in order."""
        self._outbox.append(
            (channel(conversation_id), b"|".join((self._me, kind.value, payload)))
        )
        self._wakeup.set()

    async def others_listening(self, conversation_ids: list[str]) -> dict[str, bool]:
        """Return, per conversation, whether a process besides this one subscribes."""
        if not conversation_ids:
            return {}
        counts = await self.redis.pubsub_numsub(*map(channel, conversation_ids))
        mine = {channel(cid) for cid in self._joined}
        result = {}
        for name, count in counts:
            name = name.decode() if isinstance(name, bytes) else name
            result[name[len(PREFIX) :]] = count - (1 if name in mine else 0) > 0
        return result

    async def _publish_loop(self) -> None:
        while not self._closed:
            await self._wakeup.wait()
            self._wakeup.clear()
            batch, self._outbox = self._outbox, []
            if not batch:
                continue
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for name, data in batch:
                        pipe.publish(name, data)
                    await pipe.execute()
            except Exception:
                logger.exception("relay: publishing %d messages failed", len(batch))

    async def _read(self) -> None:
        while not self._closed:
            try:
                async for message in self._pubsub.listen():
                    if message["type"] == "message":
                        await self.dispatch(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis went away: keep trying; subscriptions are restored by
                # redis-py's reconnect on the next read.
                logger.exception("relay: reading from Redis failed; retrying")
                await asyncio.sleep(1)

    async def dispatch(self, channel_name: bytes, data: bytes) -> None:
        """Hand a message another process published to on_message (never raises)."""
        sender, _, rest = data.partition(b"|")
        if sender == self._me:
            return
        letter, _, payload = rest.partition(b"|")
        kind = _KINDS.get(letter)
        if kind is None:
            logger.warning(
                "relay: skipped a message of unknown kind %r from %s",
                letter,
                sender.decode(errors="replace"),
            )
            return
        try:
            await self._on_message(channel_name.decode()[len(PREFIX) :], kind, payload)
        except Exception:
            logger.exception("relay: handling a %s message failed", kind.name)
