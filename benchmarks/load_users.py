"""The load test's simulated users (benchmarks/load_test.py): each signs up, logs in,
opens a text and a vision conversation, then until the deadline chats with think time,
now and then uploads an image and asks about it, and now and then queues a video.

Every action's latency goes into `Record`, with its errors; every message sent and every
reply that ended `complete` is remembered, for the database check afterwards."""

from __future__ import annotations

import asyncio
import io
import random
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

PASSWORD = "load-test-pw-2026"
TEXT_MODEL = "glm-4-flash"
VISION_MODEL = "glm-4v-plus"  # takes base64 images (glm-4v-flash takes URLs only)
REPLY_TOKENS = 40  # a short reply: at the simulator's 50 tokens/s under a second


@dataclass
class Record:
    """Latencies (seconds) and errors per action, and what must be in the database."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    sent: list[tuple[str, str]] = field(default_factory=list)  # (username, text)
    finished: list[tuple[int, str]] = field(default_factory=list)  # (id, content)
    usernames: list[str] = field(default_factory=list)

    def ok(self, action: str, started: float) -> None:
        self.latencies[action].append(time.monotonic() - started)

    def fail(self, action: str, reason: str) -> None:
        self.errors[action].append(reason[:200])


def png_bytes(seed: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    colour = (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)
    Image.new("RGB", (64, 32), colour).save(out, format="PNG")
    return out.getvalue()


def csrf(jar: aiohttp.CookieJar) -> str:
    return next(c.value for c in jar if c.key == "csrftoken")


async def form_token(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as r:
        page = await r.text()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not found:
        raise RuntimeError(f"no CSRF token at {url} ({r.status})")
    return found.group(1)


class Socket:
    """A chat socket read all the time, as a browser's is: frames queue up while the
    user thinks or works in the other conversation, and the server's pings are
    answered (aiohttp answers them only while something reads; an unread socket was
    closed by Daphne's ping timeout, which a browser never sees)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    self.frames.put_nowait(orjson.loads(message.data))
        finally:
            self.frames.put_nowait(None)

    async def receive(self, wait: float) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.frames.get(), wait)
        if frame is None:
            self.frames.put_nowait(None)
            raise RuntimeError(f"socket closed ({self.ws.close_code})")
        return frame

    async def close(self) -> None:
        await self.ws.close()
        await self.reader


class User:
    """One simulated user against one Daphne process."""

    def __init__(self, index: int, base: str, record: Record, run: str) -> None:
        self.index = index
        self.base = base
        self.record = record
        self.name = f"load-{run}-{index}"
        self.jar = aiohttp.CookieJar(unsafe=True)
        self.session: aiohttp.ClientSession | None = None
        self.sockets: dict[str, Socket] = {}
        self.turn = 0

    async def timed(self, action: str, coro: Any) -> Any:
        started = time.monotonic()
        try:
            result = await coro
        except Exception as exc:  # an edge: every failure is counted, none stops us
            self.record.fail(action, f"{type(exc).__name__}: {exc}")
            return None
        self.record.ok(action, started)
        return result

    async def sign_up(self) -> bool:
        async with aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as throwaway:
            token = await form_token(throwaway, f"{self.base}/accounts/signup/")
            form = {
                "csrfmiddlewaretoken": token,
                "username": self.name,
                "password1": PASSWORD,
                "password2": PASSWORD,
            }
            async with throwaway.post(f"{self.base}/accounts/signup/", data=form) as r:
                if r.status != 200 or "/accounts/signup" in str(r.url):
                    raise RuntimeError(f"sign-up answered {r.status} at {r.url}")
        self.record.usernames.append(self.name)
        return True

    async def log_in(self) -> bool:
        assert self.session is not None
        token = await form_token(self.session, f"{self.base}/accounts/login/")
        form = {
            "csrfmiddlewaretoken": token,
            "username": self.name,
            "password": PASSWORD,
        }
        async with self.session.post(f"{self.base}/accounts/login/", data=form) as r:
            if r.status != 200 or "/accounts/login" in str(r.url):
                raise RuntimeError(f"log-in answered {r.status} at {r.url}")
        return True

    async def open_conversation(self, model: str) -> str:
        assert self.session is not None
        async with self.session.post(
            f"{self.base}/api/conversations/",
            json={"model": model},
            headers={"X-CSRFToken": csrf(self.jar)},
        ) as r:
            if r.status != 201:
                raise RuntimeError(f"create answered {r.status}: {await r.text()}")
            return (await r.json())["conversation"]["id"]

    async def connect(self, kind: str, conversation: str) -> None:
        assert self.session is not None
        ws = await self.session.ws_connect(
            f"{self.base.replace('http', 'ws', 1)}/ws/chat/{conversation}/",
            headers={"Origin": self.base},
            heartbeat=30,
        )
        socket = Socket(ws)
        frame = await socket.receive(30)
        if frame["type"] != "conversation.history":
            raise RuntimeError(f"first frame was {frame['type']}")
        self.sockets[kind] = socket

    async def ask(
        self, kind: str, text: str, attachments: tuple[int, ...] = ()
    ) -> None:
        """Send `text` and wait for its reply's end; record the time to first text."""
        socket = self.sockets[kind]
        frame: dict[str, Any] = {
            "type": "message.send",
            "client_id": str(uuid.uuid4()),
            "text": text,
        }
        if attachments:
            frame["attachments"] = list(attachments)
        started = time.monotonic()
        await socket.ws.send_str(orjson.dumps(frame).decode())
        self.record.sent.append((self.name, text))
        first = True
        while True:
            frame = await socket.receive(120)
            kind_of = frame["type"]
            if kind_of == "reply.delta" and frame.get("content") and first:
                first = False
                if kind == "text":
                    self.record.ok("chat_first_text", started)
            elif kind_of == "error":
                raise RuntimeError(f"error frame {frame.get('code')}")
            elif kind_of == "reply.end":
                message = frame["message"]
                if message["status"] != "complete":
                    code = (message.get("error") or {}).get("code")
                    raise RuntimeError(f"reply ended {message['status']} ({code})")
                self.record.finished.append((message["id"], message["content"]))
                return

    async def upload(self) -> int:
        assert self.session is not None
        form = aiohttp.FormData()
        form.add_field(
            "file",
            png_bytes(self.index + self.turn),
            filename=f"load-{self.turn}.png",
            content_type="image/png",
        )
        async with self.session.post(
            f"{self.base}/api/attachments/",
            data=form,
            headers={"X-CSRFToken": csrf(self.jar)},
        ) as r:
            if r.status != 201:
                raise RuntimeError(f"upload answered {r.status}: {await r.text()}")
            return (await r.json())["attachment"]["id"]

    async def queue_video(self) -> bool:
        assert self.session is not None
        form = {
            "csrfmiddlewaretoken": csrf(self.jar),
            "prompt": f"load video {self.name} {self.turn} [[sim:ready_after=3]]",
            "model": "cogvideox-3",
            "quality": "speed",
            "size": "1920x1080",
            "fps": "30",
            "duration": "",
        }
        async with self.session.post(f"{self.base}/videos/", data=form) as r:
            if r.status != 200 or "/videos/" not in str(r.url):
                raise RuntimeError(f"video form answered {r.status}")
            page = await r.text()
            if 'class="errorlist' in page:
                raise RuntimeError("video form refused the job")
        return True

    async def run(self, deadline: float, think: tuple[float, float]) -> None:
        """Sign up, log in, then act until `deadline` (time.monotonic())."""
        connector = aiohttp.TCPConnector(limit=4)
        async with aiohttp.ClientSession(
            cookie_jar=self.jar, connector=connector
        ) as self.session:
            if not await self.timed("signup", self.sign_up()):
                return
            if not await self.timed("login", self.log_in()):
                return
            for kind, model in (("text", TEXT_MODEL), ("vision", VISION_MODEL)):
                conversation = await self.timed(
                    "create_conversation", self.open_conversation(model)
                )
                if conversation is None:
                    return
                await self.timed("ws_connect", self.connect(kind, conversation))
                if kind not in self.sockets:
                    return
            while time.monotonic() < deadline:
                await asyncio.sleep(random.uniform(*think))  # noqa: S311
                if time.monotonic() >= deadline:
                    break
                self.turn += 1
                roll = random.random()  # noqa: S311
                directive = f"[[sim:tokens={REPLY_TOKENS}]]"
                if roll < 0.80:
                    text = f"{self.name} turn {self.turn}: how are you? {directive}"
                    await self.timed("chat_reply", self.ask("text", text))
                elif roll < 0.95:
                    attachment = await self.timed("upload", self.upload())
                    if attachment is not None:
                        text = f"{self.name} turn {self.turn}: what is in this image?"
                        await self.timed(
                            "vision_reply", self.ask("vision", text, (attachment,))
                        )
                else:
                    await self.timed("video_queue", self.queue_video())
            for ws in self.sockets.values():
                await ws.close()
