"""The chat relay benchmark's clients: websocket viewers of the app and plain HTTP
readers of the simulator (the floor), both on aiohttp, plus the arithmetic that turns
what they saw into per-token latencies.

How a token's send time is known. The simulator stamps each chunk with `sim_sent_at`,
but the relay keeps only the text, and coalesces tokens into `reply.delta` frames. The
simulator paces every stream on an absolute schedule from the moment it starts: token i
(0-based) is due at t0 + i / rate, and a late wake-up sends every due token at once. So
for a relayed stream the benchmark takes t0 from the simulator's request log
(`received_at` of the relay's upstream request, matched by the message text) plus the
median gap between `received_at` and the first token's stamp measured on the floor
streams of the same run, and attributes each token of a frame by counting characters:
the reply text is deterministic, so the token boundaries are fetched once beforehand
(`token_ends`). The floor streams carry real stamps, and the same estimate is computed
for them too, so the estimate's error under the same load is reported beside the
results (`schedule_error_ms`).
"""

from __future__ import annotations

import asyncio
import bisect
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from measure import percentile, stamped_tokens

MODEL = "glm-4-flash"
FLOOR_AUTH = "Bearer floor.bench"


def message_text(index: int, tokens: int, rate: int, *, stamp: bool = True) -> str:
    """The user message of client `index`; the reply quotes the part after the
    directive, so it differs per client and the request log tells them apart."""
    flags = ",stamp" if stamp else ""
    return f"[[sim:tokens={tokens},rate={rate}{flags}]] relay benchmark {index}"


def client_index(text: str) -> int | None:
    head, sep, tail = text.rpartition("relay benchmark ")
    return int(tail) if sep and tail.isdigit() else None


def chat_body(text: str) -> dict[str, Any]:
    return {
        "model": MODEL,
        "stream": True,
        "messages": [{"role": "user", "content": text}],
    }


async def token_ends(
    session: aiohttp.ClientSession, api_url: str, index: int, tokens: int
) -> list[int]:
    """Cumulative character offsets where each token of client `index`'s reply ends
    (read unpaced from the simulator: the reply text ignores the directives)."""
    ends: list[int] = []
    length = 0
    buffer = b""
    body = chat_body(message_text(index, tokens, 0, stamp=False))
    async with session.post(
        api_url, json=body, headers={"Authorization": FLOOR_AUTH}
    ) as r:
        r.raise_for_status()
        async for chunk in r.content.iter_any():
            buffer += chunk
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                if not event.startswith(b"data: {"):
                    continue
                delta = orjson.loads(event[6:])["choices"][0]["delta"]
                content = delta.get("content") or ""
                if content:
                    length += len(content)
                    ends.append(length)
    return ends


# --- The floor: the same load read straight from the simulator ------------------------


@dataclass
class FloorStream:
    index: int
    started: float = 0.0  # wall time the request was sent
    arrivals: list[tuple[float, float]] = field(default_factory=list)  # (recv, sent)
    error: str | None = None


async def read_floor(
    session: aiohttp.ClientSession, api_url: str, stream: FloorStream, text: str
) -> None:
    stream.started = time.time()
    try:
        async with session.post(
            api_url, json=chat_body(text), headers={"Authorization": FLOOR_AUTH}
        ) as r:
            async for arrival in stamped_tokens(r):
                stream.arrivals.append(arrival)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        stream.error = f"{type(exc).__name__}: {exc}"


# --- The app: websocket viewers -------------------------------------------------------


@dataclass
class Viewer:
    """One socket on one conversation; `frames` holds (receive time, characters of
    reply content received so far) per `reply.delta` that carried content."""

    index: int
    conversation: str
    sent_at: float = 0.0  # wall time message.send went out (on this or the sender)
    frames: list[tuple[float, int]] = field(default_factory=list)
    created_at: float | None = None
    ended_at: float | None = None
    status: str | None = None
    final_length: int | None = None
    error: str | None = None
    ws: aiohttp.ClientWebSocketResponse | None = None


async def open_socket(
    session: aiohttp.ClientSession, base: str, cookie: str, conversation: str
) -> aiohttp.ClientWebSocketResponse:
    """Open the conversation's socket and wait for `conversation.history`."""
    origin = base
    ws = await session.ws_connect(
        f"{base.replace('http', 'ws', 1)}/ws/chat/{conversation}/",
        headers={"Origin": origin, "Cookie": cookie},
        autoping=True,
        heartbeat=None,
    )
    msg = await ws.receive(timeout=30)
    if msg.type != aiohttp.WSMsgType.TEXT:
        code = ws.close_code
        await ws.close()
        raise RuntimeError(f"socket closed before history (close code {code})")
    frame = orjson.loads(msg.data)
    if frame.get("type") != "conversation.history":
        await ws.close()
        raise RuntimeError(f"expected conversation.history, got {frame.get('type')}")
    return ws


async def send_message(
    ws: aiohttp.ClientWebSocketResponse, text: str
) -> tuple[float, str]:
    client_id = str(uuid.uuid4())
    sent_at = time.time()
    await ws.send_str(
        orjson.dumps(
            {"type": "message.send", "client_id": client_id, "text": text}
        ).decode()
    )
    return sent_at, client_id


async def watch(viewer: Viewer, seconds: float) -> None:
    """Read the viewer's socket until `reply.end` (or the timeout) and close it."""
    ws = viewer.ws
    assert ws is not None
    length = 0
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                viewer.error = "timeout"
                return
            msg = await ws.receive(timeout=left)
            now = time.time()
            if msg.type != aiohttp.WSMsgType.TEXT:
                viewer.error = f"socket closed ({ws.close_code})"
                return
            frame = orjson.loads(msg.data)
            kind = frame.get("type")
            if kind == "reply.delta":
                content = frame.get("content") or ""
                if content:
                    length += len(content)
                    viewer.frames.append((now, length))
            elif kind == "message.created":
                viewer.created_at = now
            elif kind == "reply.snapshot":
                length = len(frame.get("content") or "")
                viewer.frames.append((now, length))
            elif kind == "reply.end":
                viewer.ended_at = now
                message = frame.get("message") or {}
                viewer.status = message.get("status")
                viewer.final_length = len(message.get("content") or "")
                return
            elif kind == "error":
                viewer.error = f"error frame: {frame.get('code')}"
                return
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        viewer.error = viewer.error or f"{type(exc).__name__}: {exc}"
    finally:
        await ws.close()


async def send_then_leave(
    ws: aiohttp.ClientWebSocketResponse, text: str, viewer: Viewer
) -> None:
    """The sender of a conversation viewed from another process: send, wait for
    `message.created`, close (the server, not the socket, owns the reply)."""
    viewer.sent_at, _ = await send_message(ws, text)
    try:
        while True:
            msg = await ws.receive(timeout=30)
            if msg.type != aiohttp.WSMsgType.TEXT:
                viewer.error = viewer.error or "sender socket closed before created"
                return
            kind = orjson.loads(msg.data).get("type")
            if kind == "message.created":
                return
            if kind == "error":
                viewer.error = "sender got an error frame"
                return
    finally:
        await ws.close()


# --- From observations to figures -----------------------------------------------------


def floor_offsets(
    streams: list[FloorStream], received_at: dict[int, float]
) -> list[float]:
    """First token's stamp minus the request's `received_at`, per floor stream."""
    return [
        s.arrivals[0][1] - received_at[s.index]
        for s in streams
        if s.arrivals and s.index in received_at
    ]


def floor_figures(
    streams: list[FloorStream],
    received_at: dict[int, float],
    offset: float,
    rate: float,
    tokens: int,
) -> dict[str, Any]:
    """Latency by the stamps and by the schedule estimate the relayed streams get
    (the latter is what the relay is compared with), the estimate's error, TTFT from
    the request, per-stream pace, losses."""
    latencies, estimated, errors, ttfts, paces = [], [], [], [], []
    for s in streams:
        for i, (recv, sent) in enumerate(s.arrivals):
            latencies.append(recv - sent)
            if s.index in received_at:
                due = received_at[s.index] + offset + i / rate
                estimated.append(recv - due)
                errors.append(sent - due)
        if s.arrivals:
            ttfts.append(s.arrivals[0][0] - s.started)
            span = s.arrivals[-1][0] - s.arrivals[0][0]
            if span > 0:
                paces.append((len(s.arrivals) - 1) / span)
    received = sum(len(s.arrivals) for s in streams)
    return {
        "latency_ms": _ms(latencies, (50, 95, 99)),
        "latency_est_ms": _ms(estimated, (50, 95, 99)),
        "ttft_ms": _ms(ttfts, (50, 95)),
        "schedule_error_ms": _ms([abs(e) for e in errors], (50, 99)),
        "pace_p50": percentile(paces, 50),
        "pace_p5": percentile(paces, 5),
        "received": received,
        "lost": len(streams) * tokens - received,
        "failed": sum(1 for s in streams if s.error or len(s.arrivals) < tokens),
    }


def viewer_figures(
    viewers: list[Viewer],
    ends: dict[int, list[int]],
    starts: dict[int, float],
    rate: float,
    tokens: int,
) -> dict[str, Any]:
    """Per-token latency (every token, from the frame that carried it), the latency of
    each frame's newest token, TTFT from message.send, per-stream pace, losses."""
    latencies, newest, ttfts, paces = [], [], [], []
    delivered = mismatched = unmatched = 0
    failed: list[str] = []
    for v in viewers:
        token_end = ends[v.index]
        t0 = starts.get(v.index)
        count = 0
        first_at = first_count = None
        last_at = None
        for recv, length in v.frames:
            now_count = bisect.bisect_right(token_end, length)
            if now_count > count:
                if t0 is not None:
                    for i in range(count, now_count):
                        latencies.append(recv - (t0 + i / rate))
                    newest.append(recv - (t0 + (now_count - 1) / rate))
                if first_at is None:
                    first_at, first_count = recv, now_count
                last_at = recv
                count = now_count
        delivered += count
        if t0 is None and v.frames:
            unmatched += 1
        if first_at is not None:
            ttfts.append(first_at - v.sent_at)
            if last_at > first_at:
                paces.append((count - first_count) / (last_at - first_at))
        if v.final_length is not None and v.final_length != token_end[-1]:
            mismatched += 1
        if v.error or v.status != "complete" or count < tokens:
            failed.append(v.error or f"status {v.status}, {count} tokens")
    return {
        "latency_ms": _ms(latencies, (50, 95, 99)),
        "newest_ms": _ms(newest, (50, 95, 99)),
        "ttft_ms": _ms(ttfts, (50, 95)),
        "pace_p50": percentile(paces, 50),
        "pace_p5": percentile(paces, 5),
        "delivered": delivered,
        "lost": len(viewers) * tokens - delivered,
        "failed": len(failed),
        "failures": sorted(set(failed))[:5],
        "content_mismatch": mismatched,
        "unmatched_upstream": unmatched,
        "frames_per_reply": (
            sum(len(v.frames) for v in viewers) / len(viewers) if viewers else 0
        ),
    }


def _ms(values: list[float], pcts: tuple[int, ...]) -> dict[str, float | None]:
    out = {}
    for p in pcts:
        value = percentile(values, p)
        out[f"p{p}"] = None if value is None else round(1000 * value, 2)
    return out
