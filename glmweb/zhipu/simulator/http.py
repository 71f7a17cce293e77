"""Request and response plumbing over raw ASGI (no framework: one layer less per
chunk)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from .errors import ERROR_CONTENT_TYPE, PlatformError, platform_error

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_CONTENT_TYPE = b"application/json; charset=UTF-8"
SSE_CONTENT_TYPE = b"text/event-stream;charset=UTF-8"


class DroppedConnection(Exception):
    """Raised to make uvicorn cut the connection mid-response (drop_after, hang_up)."""


@dataclass
class Request:
    method: str
    path: str  # below the API base, without slashes at either end: "chat/completions"
    headers: dict[str, str]
    body: bytes
    root: str  # "http://host:port", from the Host header, for absolute media URLs
    receive: Receive
    json: Any = None
    json_error: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def json_object(self) -> dict[str, Any]:
        """Return the body as a JSON object, or raise the platform's 1210."""
        if self.json_error or not isinstance(self.json, dict):
            raise platform_error("1210", detail="request body must be a JSON object")
        return self.json


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def parse_json(body: bytes) -> tuple[Any, bool]:
    """Return (parsed body or None, whether the body was present but not JSON)."""
    if not body.strip():
        return None, False
    try:
        return orjson.loads(body), False
    except orjson.JSONDecodeError:
        return None, True


async def start_response(
    send: Send, status: int, content_type: bytes, *headers: tuple[bytes, bytes]
) -> None:
    """Send the status line and headers; the body follows in one or more writes."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), *headers],
        }
    )


def content_length(size: int) -> tuple[bytes, bytes]:
    return (b"content-length", str(size).encode())


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    await start_response(
        send, status, content_type, content_length(len(body)), *headers
    )
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, payload: Any, status: int = 200) -> None:
    await send_bytes(send, status, orjson.dumps(payload), JSON_CONTENT_TYPE)


async def send_error(send: Send, error: PlatformError) -> None:
    await send_bytes(
        send, error.status, error.body(), ERROR_CONTENT_TYPE, error.headers
    )


async def hang_up(send: Send) -> None:
    """Send a status line and headers promising a body, then cut the connection.

    The request has been read (and acted on), so this is a reply lost on its way back.
    uvicorn closes the connection of an app that fails mid-response; failing before
    the headers would make it answer 500 instead.
    """
    await start_response(send, 200, JSON_CONTENT_TYPE, content_length(1024))
    raise DroppedConnection


async def start_event_stream(send: Send) -> None:
    await start_response(send, 200, SSE_CONTENT_TYPE, (b"cache-control", b"no-cache"))


class DisconnectWatch:
    """Notices the client going away while we stream.

    uvicorn's `send` silently drops writes to a closed connection, so without this a
    cancelled stream would keep pacing tokens into the void until its end.
    """

    def __init__(self, receive: Receive) -> None:
        self._waiter = asyncio.ensure_future(receive())

    @property
    def gone(self) -> bool:
        return self._waiter.done()

    def close(self) -> None:
        self._waiter.cancel()
