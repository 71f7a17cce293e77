"""Request bodies under uvicorn, bounded: glmweb.bodylimits' limits as an ASGI wrapper.

uvicorn hands a body to the application in chunks as they arrive (it stops reading the
socket while 64 kB wait unread), and Django's ASGIHandler spools them into a file of
its own before the view runs; nothing parses a form on the event loop. What is left to
do is Daphne's rule (glmweb/daphne_requests.py) in ASGI terms:

- a Content-Length over the body's limit is answered 413 at once, before the
  application starts and before a byte of the body is read;
- a chunked body is counted as the application reads it: once it passes the limit the
  413 goes out and the application is told the client left (Django then drops what it
  had spooled and answers nothing);
- the rest of a refused body is read and dropped, so the client gets to read the 413
  instead of a reset, and the connection then closes; a client that keeps sending for
  bodylimits.DISCARD_SECONDS is cut off.

glmweb.serve_uvicorn wraps the application in BodyLimitMiddleware.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.http.cookie import parse_cookie

from glmweb import bodylimits, languages

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


class BodyLimitMiddleware:
    """An ASGI application refusing HTTP request bodies over their limit with 413."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = bodylimits.limit_for(_header(scope, b"content-type"))
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > limit:
            await _refuse(scope, receive, send, limit)
            return

        received = 0
        started = refused = False

        async def bounded_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request":
                return message
            received += len(message.get("body", b""))
            if received <= limit:
                return message
            refused = True
            if not started:  # Django reads the whole body before it answers
                more = bool(message.get("more_body", False))
                await _refuse(scope, receive, send, limit, more_body=more)
            return {"type": "http.disconnect"}

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 has answered this request
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, bounded_receive, tracked_send)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, limit: int, *, more_body: bool = True
) -> None:
    """Send the 413, then read and drop the rest of the body (at most
    bodylimits.DISCARD_SECONDS)
    before the response ends and the connection closes."""
    cookie = parse_cookie(_header(scope, b"cookie")).get(
        settings.LANGUAGE_COOKIE_NAME, ""
    )
    language = languages.choose_language(cookie, _header(scope, b"accept-language"))
    client = scope.get("client") or ("?", 0)
    logger.info("refused a request body over %d bytes from %s", limit, client[0])
    headers, body = bodylimits.too_large_parts(limit, language)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in headers
            ],
        }
    )
    # The text goes out now; the response ends (and uvicorn closes the connection,
    # as its Connection: close says) only once the body is drained.
    await send({"type": "http.response.body", "body": body, "more_body": True})
    try:
        async with asyncio.timeout(bodylimits.DISCARD_SECONDS):
            while more_body:
                message = await receive()
                more_body = message["type"] == "http.request" and message.get(
                    "more_body", False
                )
    except TimeoutError:
        pass
    await send({"type": "http.response.body", "body": b""})
