"""The SSE stream of a chat reply, paced at the token rate, with directive faults.

Framing (zhipu-api.md §2.4): `data: <compact JSON>\\n\\n` per chunk, a final chunk with
finish_reason and usage, then `data: [DONE]\\n\\n`. Built for hundreds of concurrent
streams: every chunk's bytes are prepared before the first is sent, the loop does one
concatenation and one `send` per due batch, and the pacing keeps to an absolute
schedule, so a late wake-up sends every chunk already due in one write.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from .directives import Directives
from .errors import platform_error
from .http import (
    DisconnectWatch,
    DroppedConnection,
    Receive,
    Send,
    start_event_stream,
)

DONE = b"data: [DONE]\n\n"
MALFORMED = b"data: {broken json\n\n"
BATCH_WHEN_UNPACED = 64  # rate 0: chunks per write, so other streams get a turn


# Directives that change only the stream's byte shape, for the client's reader tests.
FRAMING = ("crlf", "keepalive", "sse_fields", "split")


@dataclass
class ReplyPlan:
    id: str
    request_id: str
    created: int
    model: str
    reasoning: list[str]
    content: list[str]
    finish_reason: str
    prompt_tokens: int
    rate: float
    stream: bool
    directives: Directives
    web_search: list[dict[str, str]] | None = None

    def usage(self) -> dict[str, Any]:
        completion = len(self.reasoning) + len(self.content)
        usage: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }
        if self.reasoning:
            usage["completion_tokens_details"] = {
                "reasoning_tokens": len(self.reasoning)
            }
        return usage


def _chunk_bodies(plan: ReplyPlan) -> list[bytes]:
    """Return each delta chunk's JSON without its opening `{` (room for a stamp)."""
    head = orjson.dumps(
        {
            "id": plan.id,
            "created": plan.created,
            "object": "chat.completion.chunk",
            "model": plan.model,
        }
    )[1:-1]
    reasoning_open = (
        head
        + b',"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":'
    )
    content_open = (
        head + b',"choices":[{"index":0,"delta":{"role":"assistant","content":'
    )
    close = b"}}]}"
    bodies = [reasoning_open + orjson.dumps(token) + close for token in plan.reasoning]
    bodies += [content_open + orjson.dumps(token) + close for token in plan.content]
    if plan.web_search is not None and bodies:
        # web_search rides on the first chunk, a top-level sibling of choices.
        bodies[0] = (
            bodies[0][:-1] + b',"web_search":' + orjson.dumps(plan.web_search) + b"}"
        )
    return bodies


def _final_body(plan: ReplyPlan, with_search: bool) -> bytes:
    final: dict[str, Any] = {
        "id": plan.id,
        "created": plan.created,
        "object": "chat.completion.chunk",
        "model": plan.model,
        "choices": [
            {
                "index": 0,
                "finish_reason": plan.finish_reason,
                "delta": {"role": "assistant", "content": ""},
            }
        ],
        "usage": plan.usage(),
    }
    if plan.finish_reason == "sensitive":
        final["content_filter"] = [{"role": "assistant", "level": 1}]
    if with_search:
        final["web_search"] = plan.web_search
    return orjson.dumps(final)[1:]


def _events(bodies: list[bytes], stamp: bool) -> bytes:
    if not stamp:
        return b"".join(b"data: {" + body + b"\n\n" for body in bodies)
    sent_at = b'data: {"sim_sent_at":%.6f,' % time.time()
    return b"".join(sent_at + body + b"\n\n" for body in bodies)


async def stream_reply(send: Send, plan: ReplyPlan, receive: Receive) -> None:
    """Send `plan` as an SSE stream, applying its fault directives."""
    directives = plan.directives
    bodies = _chunk_bodies(plan)
    total = len(bodies)
    stamp = bool(directives.get("stamp"))
    # Each fault fires once the given number of chunks has gone out (capped at all of
    # them, so it still lands before the final chunk).
    faults = {
        name: min(directives.get(name), total)
        for name in (
            "drop_after",
            "stall_after",
            "malformed_after",
            "error_event",
            "end_after",
        )
        if directives.has(name)
    }
    if directives.has("stall_s") and "stall_after" not in faults:
        faults["stall_after"] = 0
    interval = 1.0 / plan.rate if plan.rate > 0 else 0.0
    loop = asyncio.get_running_loop()
    watch = DisconnectWatch(receive)
    if any(directives.has(name) for name in FRAMING):
        send = _reframing(send, directives)
    await start_event_stream(send)
    try:
        start = loop.time()
        sent = 0
        while True:
            # Faults at this position, in a fixed order: stall, malformed, error, drop.
            if faults.get("stall_after") == sent:
                await asyncio.sleep(directives.get("stall_s", 0.0))
                start += directives.get("stall_s", 0.0)
            if faults.get("malformed_after") == sent:
                await _body(send, MALFORMED)
            if faults.get("error_event") == sent:
                error = platform_error(directives.get("code", "1301"))
                await _body(
                    send, b"data: " + orjson.dumps(error.as_event()) + b"\n\n" + DONE
                )
                await send({"type": "http.response.body", "body": b""})
                return
            if faults.get("drop_after") == sent:
                raise DroppedConnection
            if faults.get("end_after") == sent:
                # A clean end of the HTTP body, but no final chunk and no [DONE].
                await send({"type": "http.response.body", "body": b""})
                return
            if sent >= total or watch.gone:
                break
            stop = min((at for at in faults.values() if at > sent), default=total)
            if interval:
                due = start + sent * interval
                now = loop.time()
                if due > now:
                    await asyncio.sleep(due - now)
                    now = loop.time()
                upto = max(sent + 1, int((now - start) / interval) + 1)
            else:
                upto = sent + BATCH_WHEN_UNPACED
            upto = min(upto, stop)
            await _body(send, _events(bodies[sent:upto], stamp))
            sent = upto
        if watch.gone:
            return
        final = _final_body(
            plan, with_search=plan.web_search is not None and not bodies
        )
        tail = b"" if directives.get("no_done") else DONE
        await _body(send, _events([final], stamp) + tail)
        await send({"type": "http.response.body", "body": b""})
    finally:
        watch.close()


def _reframing(send: Send, directives: Directives) -> Send:
    """Wrap `send` so body bytes go out reshaped as the framing directives ask.

    Events are split on the blank line between them, which is safe because compact
    JSON never holds a raw newline.
    """
    event_ids = iter(range(1, 1_000_000))
    split = directives.get("split", 0)

    def reshape(data: bytes) -> bytes:
        events = []
        for event in data.split(b"\n\n")[:-1]:
            lines = []
            if directives.get("keepalive"):
                lines += [b": keep-alive", b":"]
            if directives.get("sse_fields"):
                # The optional space after the colon left out, as the spec allows.
                event = b"data:" + event.removeprefix(b"data: ")
                lines += [
                    b"event: message",
                    b"id: %d" % next(event_ids),
                    b"retry: 3000",
                ]
            events.append(b"\n".join([*lines, event]) + b"\n\n")
        shaped = b"".join(events)
        if directives.get("crlf"):
            shaped = shaped.replace(b"\n", b"\r\n")
        return shaped

    async def reframed_send(message: MutableMapping[str, Any]) -> None:
        body = message.get("body")
        if message["type"] != "http.response.body" or not body:
            await send(message)
            return
        body = reshape(body)
        if not split:
            await send({**message, "body": body})
            return
        # One write per piece, with a pause, so the client's reads are split there too
        # (split=1 cuts inside every multi-byte UTF-8 character).
        for start in range(0, len(body), split):
            await send(
                {**message, "body": body[start : start + split], "more_body": True}
            )
            await asyncio.sleep(0.001)
        if not message.get("more_body", False):
            await send({"type": "http.response.body", "body": b""})

    return reframed_send


async def _body(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})
