"""The process-local hub: live replies, the sockets watching them, and the tick.

One Hub per process (per event loop). It holds:

- `replies`: conversation id -> LiveReply owned by this process (at most one each);
- `viewers`: conversation id -> this process's sockets on it (a tuple, replaced on
  change, so the tick iterates without copying);
- one tick for all replies (every GLMWEB_REPLY_FRAME_MS, ~35 ms, stretched while the
  loop lags or many replies stream: chat.replies.pacing): each reply with new text
  becomes one `reply.delta`, JSON-encoded once and handed straight to each local
  socket's server send (no channel layer: measured 3-6x cheaper; no Channels
  middleware: glmweb/server_send.py), and published to Redis only while
  another process has a socket on that conversation;
- one maintenance loop (every second): who else is listening (PUBSUB NUMSUB), this
  process's heartbeat and the replies' checkpoints (every
  GLMWEB_REPLY_CHECKPOINT_SECONDS), and a sweep for replies left streaming by dead
  processes (every GLMWEB_REPLY_STALE_SECONDS, and once at start).

The hub alone talks to the relay and the checkpoint store; the rest of the engine
asks it (follow, ask_stop, load_checkpoint, ...). It knows nothing of recovery: the
sweep it runs is handed to it (chat.replies.engine builds the hub).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

import orjson
from django.conf import settings

from chat.replies import checkpoints, pacing, protocol, relay
from chat.replies.live import LiveReply
from chat.replies.relay import Kind, Relay

logger = logging.getLogger(__name__)


class Viewer(Protocol):
    """A socket watching a conversation (chat.consumers.ChatConsumer)."""

    language: str

    async def push(self, text: str) -> None: ...


class SessionViewer(Viewer, Protocol):
    """A viewer signed in through a session (chat.socket_sessions)."""

    user_id: int
    session_digest: str

    async def end_session(self) -> None: ...

    async def recheck_session(self) -> object: ...


class Hub:
    def __init__(self, sweep: Callable[[Hub], Awaitable[object]]) -> None:
        """`sweep(hub)` recovers replies left streaming by dead processes."""
        self.loop = asyncio.get_running_loop()
        self.process_id = checkpoints.new_process_id()
        self._sweep = sweep
        self._store = checkpoints.open_store(self.process_id)
        self._relay: Relay | None = None
        self.replies: dict[str, LiveReply] = {}
        self.viewers: dict[str, tuple[Viewer, ...]] = {}
        self._dirty: list[LiveReply] = []
        self._presence_queue: list[LiveReply] = []
        self._tick_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        # The reply tasks (a subset of _tasks), each until its reply is saved,
        # announced and titled.
        self.reply_tasks: set[asyncio.Task[None]] = set()
        self.started = False
        self._start_lock = asyncio.Lock()

    # --- life cycle

    async def start(self) -> None:
        """Start the relay (with REDIS_URL), the heartbeat and the recovery sweep."""
        async with self._start_lock:
            if self.started:
                return
            if settings.REDIS_URL:
                self._relay = Relay(settings.REDIS_URL, self.process_id, self.on_relay)
                await self._relay.start()
            await self._store.write([])
            atexit.register(self._store.forget)
            self.started = True
            self.spawn(self._maintain())

    async def close(self) -> None:
        """Stop the background work and mark this process gone."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)
        if self._relay is not None:
            await self._relay.close()
        with contextlib.suppress(Exception):
            await self._store.aclose()

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run coro as a task of its own (a fresh context: not tied to the socket
        that caused it), keeping a reference until it ends."""
        task = self.loop.create_task(coro, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- sockets

    async def attach(self, conversation_id: str, viewer: Viewer) -> None:
        self.viewers[conversation_id] = (*self.viewers.get(conversation_id, ()), viewer)
        if self._relay is not None:
            await self._relay.join(conversation_id)

    async def detach(self, conversation_id: str, viewer: Viewer) -> None:
        current = self.viewers.get(conversation_id, ())
        if viewer not in current:
            return
        rest = tuple(v for v in current if v is not viewer)
        if rest:
            self.viewers[conversation_id] = rest
        else:
            self.viewers.pop(conversation_id, None)
        if self._relay is not None:
            await self._relay.leave(conversation_id)

    async def recheck_user(
        self, user_id: int, ended_session: str = "", *, publish: bool = True
    ) -> None:
        """Have the user's sockets here check their sessions (the one named by
        `ended_session`, a session digest, closes at once); and, with `publish`,
        those of every other process."""
        mine = [
            viewer
            for viewers in self.viewers.values()
            for viewer in viewers
            if getattr(viewer, "user_id", None) == user_id
        ]
        for viewer in cast(list[SessionViewer], mine):
            if ended_session and viewer.session_digest == ended_session:
                self.spawn(viewer.end_session())
            else:
                self.spawn(viewer.recheck_session())
        if publish and self._relay is not None:
            payload = relay.sessions_payload(user_id, ended_session)
            self._relay.publish(relay.USERS, Kind.SESSIONS, payload)

    async def deliver(
        self, conversation_id: str, frames: protocol.Frames, *, publish: bool = True
    ) -> None:
        """Send a frame to every socket of the conversation, here and elsewhere."""
        for viewer in self.viewers.get(conversation_id, ()):
            await viewer.push(protocol.pick(frames, viewer.language))
        if publish and self._relay is not None:
            self._relay.publish(conversation_id, Kind.EVENT, orjson.dumps(frames))

    def ask_snapshot(self, conversation_id: str) -> None:
        """Ask the process owning the conversation's reply (if any) for a snapshot;
        its frames then reach this process's sockets too."""
        if self._relay is not None:
            self._relay.publish(conversation_id, Kind.SNAPSHOT_REQUEST)

    def ask_stop(self, conversation_id: str, message_id: int | None) -> None:
        """Ask the other processes to stop the conversation's reply."""
        if self._relay is not None:
            payload = str(message_id).encode() if message_id else b""
            self._relay.publish(conversation_id, Kind.STOP, payload)

    # --- checkpoints

    async def load_checkpoint(self, message_id: int) -> dict[str, Any] | None:
        return await self._store.load(message_id)

    async def drop_checkpoint(self, message_id: int) -> None:
        await self._store.delete(message_id)

    async def memory_age(self) -> float:
        """Return for how long the store has held every live reply's checkpoint."""
        return await self._store.memory_age()

    async def is_alive(self, process_id: str) -> bool:
        """Return whether the process (this one included) still has a heartbeat."""
        return process_id == self.process_id or await self._store.is_alive(process_id)

    # --- replies

    def owns(self, message_id: int) -> bool:
        return any(live.message_id == message_id for live in self.replies.values())

    def run_reply(self, live: LiveReply, coro: Any) -> None:
        """Run a reply's coroutine as its task."""
        live.task = task = self.spawn(coro)
        self.reply_tasks.add(task)
        task.add_done_callback(self.reply_tasks.discard)

    async def shutdown(self, grace: float) -> None:
        """Save every running reply as interrupted, with all the text it has, because
        this process is exiting; wait up to `grace` seconds for the saves."""
        for live in list(self.replies.values()):
            live.shutting_down = True
            self.request_stop(live)
        if self.reply_tasks:
            await asyncio.wait(set(self.reply_tasks), timeout=grace)

    def register(self, conversation_id: str, message_id: int) -> LiveReply:
        live = LiveReply(conversation_id, message_id)
        self.replies[conversation_id] = live
        if self._tick_task is None:
            self._tick_task = self.spawn(self._tick())
        return live

    async def follow(self, live: LiveReply) -> None:
        """Listen on the reply's conversation (for stop and snapshot asks) and find
        out whether another process has a socket on it."""
        if self._relay is not None:
            await self._relay.join(live.conversation_id)
            self.check_presence(live)

    async def unfollow(self, live: LiveReply) -> None:
        if self._relay is not None:
            await self._relay.leave(live.conversation_id)

    def check_presence(self, live: LiveReply) -> None:
        """Find out soon whether another process has a socket on the reply's
        conversation. Until then frames are published (a viewer elsewhere must not
        miss the first ones); the checks of a burst of new replies share one
        PUBSUB NUMSUB instead of a Redis round trip (and connection) each."""
        live.remote = True
        self._presence_queue.append(live)
        if len(self._presence_queue) == 1:
            self.spawn(self._check_presence())

    async def _check_presence(self) -> None:
        await asyncio.sleep(0.005)  # gather the rest of the burst
        queued, self._presence_queue = self._presence_queue, []
        assert self._relay is not None
        try:
            listening = await self._relay.others_listening(
                list({live.conversation_id for live in queued})
            )
        except Exception:
            logger.exception("checking for viewers on other processes failed")
            return  # frames stay published; the maintenance loop checks again
        for live in queued:
            live.remote = listening.get(live.conversation_id, True)

    def unregister(self, live: LiveReply) -> None:
        if self.replies.get(live.conversation_id) is live:
            del self.replies[live.conversation_id]

    async def text_arrived(self, live: LiveReply) -> None:
        """New text is pending: a reply's first goes out at once (no tick delay
        before the first token), the rest with the next tick."""
        if self.queue_text(live):
            await self.flush(live)

    def queue_text(self, live: LiveReply) -> bool:
        """text_arrived without the coroutine, for the runner's per-chunk loop:
        queue the new text for the next tick, or return True when it is the reply's
        first, which the caller then flushes at once."""
        if live.seq == 0 and not live.dirty:
            return True
        self.mark_dirty(live)
        return False

    def mark_dirty(self, live: LiveReply) -> None:
        if not live.dirty:
            live.dirty = True
            self._dirty.append(live)

    async def flush(self, live: LiveReply) -> None:
        """Send the reply's pending text now as one frame (if there is any)."""
        data = live.take_frame()
        if data is None:
            return
        text = data.decode()
        for viewer in self.viewers.get(live.conversation_id, ()):
            await viewer.push(text)
        if live.remote and self._relay is not None:
            self._relay.publish(live.conversation_id, Kind.FRAME, data)

    def request_stop(self, live: LiveReply) -> None:
        if not live.stop_requested and not live.finishing:
            live.stop_requested = True
            if live.task is not None:
                live.task.cancel()

    async def save_checkpoints(self) -> None:
        """Write this process's heartbeat and every live reply's checkpoint."""
        now = time.time()
        await self._store.write(
            [
                {
                    "owner": self.process_id,
                    "conversation_id": live.conversation_id,
                    **live.snapshot(),
                    "saved_at": now,
                }
                for live in list(self.replies.values())
            ]
        )

    async def _tick(self) -> None:
        pace = pacing.FramePace(
            settings.GLMWEB_REPLY_FRAME_MS / 1000,
            settings.GLMWEB_REPLY_FRAME_MAX_MS / 1000,
        )
        loop = self.loop
        next_at = loop.time()
        while self.replies or self._dirty:
            next_at += pace.interval(len(self.replies))
            due = next_at
            delay = next_at - loop.time()
            if delay < 0:  # fell behind: do not try to catch up with a burst
                next_at = loop.time()
                delay = 0
            await asyncio.sleep(delay)
            # Late by the loop's backlog, or by the last flush outlasting a tick.
            pace.woke(loop.time() - due)
            dirty, self._dirty = self._dirty, []
            for live in dirty:
                live.dirty = False
                try:
                    await self.flush(live)
                except Exception:
                    logger.exception(
                        "sending a frame of reply %s failed", live.message_id
                    )
        self._tick_task = None

    # --- cross-process

    async def on_relay(self, conversation_id: str, kind: Kind, payload: bytes) -> None:
        """Handle a message another process published on a conversation's channel."""
        if kind is Kind.FRAME or kind is Kind.SNAPSHOT:
            text = payload.decode()
            for viewer in self.viewers.get(conversation_id, ()):
                await viewer.push(text)
        elif kind is Kind.EVENT:
            await self.deliver(conversation_id, orjson.loads(payload), publish=False)
        elif kind is Kind.SNAPSHOT_REQUEST:
            live = self.replies.get(conversation_id)
            if live is not None and self._relay is not None:
                # From now on frames are published; the snapshot is taken in the same
                # step, so it and the frames after it join up exactly.
                live.remote = True
                self._relay.publish(
                    conversation_id,
                    Kind.SNAPSHOT,
                    protocol.reply_snapshot(live.snapshot()).encode(),
                )
        elif kind is Kind.SESSIONS:
            user_id, ended = relay.parse_sessions_payload(payload)
            await self.recheck_user(user_id, ended, publish=False)
        elif kind is Kind.STOP:
            live = self.replies.get(conversation_id)
            if live is not None and (not payload or int(payload) == live.message_id):
                self.request_stop(live)
        else:  # a Kind added without a branch here
            logger.warning("relay: no handler for %s messages", kind.name)

    async def _maintain(self) -> None:
        last_beat = time.monotonic()
        last_sweep = 0.0
        while True:
            try:
                now = time.monotonic()
                if now - last_sweep >= settings.GLMWEB_REPLY_STALE_SECONDS:
                    last_sweep = now
                    await self._sweep(self)
                if self._relay is not None and self.replies:
                    listening = await self._relay.others_listening(list(self.replies))
                    for conversation_id, others in listening.items():
                        live = self.replies.get(conversation_id)
                        if live is not None:
                            live.remote = others
                if now - last_beat >= settings.GLMWEB_REPLY_CHECKPOINT_SECONDS:
                    last_beat = now
                    await self.save_checkpoints()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("reply maintenance failed; trying again")
            await asyncio.sleep(min(1.0, settings.GLMWEB_REPLY_CHECKPOINT_SECONDS))
