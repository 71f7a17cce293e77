"""A client that goes away mid-stream stops its stream: the simulator must not keep
pacing tokens into a closed socket (hundreds of abandoned streams would eat the CPU a
benchmark needs). Driven through the ASGI app directly, to see what it sends."""

from __future__ import annotations

import asyncio
import json

from glmweb.zhipu.simulator.app import SimulatorApp
from glmweb.zhipu.simulator.config import SimulatorConfig


async def test_stream_stops_when_client_disconnects():
    body = json.dumps(
        {
            "model": "glm-4",
            "stream": True,
            "messages": [{"role": "user", "content": "[[sim:tokens=1000,rate=100]]"}],
        }
    ).encode()
    gone = asyncio.Event()
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])
    sent: list[dict] = []

    async def receive() -> dict:
        message = next(messages, None)
        if message is not None:
            return message
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)
        if sum(m.get("body", b"").count(b"data: ") for m in sent) >= 3:
            gone.set()  # the client reads three chunks, then closes the socket

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/paas/v4/chat/completions",
        "scheme": "http",
        "headers": [
            (b"authorization", b"Bearer test-id.test-secret"),
            (b"host", b"sim"),
        ],
    }
    app = SimulatorApp(SimulatorConfig(token_rate=100))

    await asyncio.wait_for(app(scope, receive, send), timeout=2)

    chunks = sum(m.get("body", b"").count(b"data: ") for m in sent)
    assert 3 <= chunks <= 5  # stopped within a tick or two, not after 1000 (10 s)
    assert not any(b"[DONE]" in m.get("body", b"") for m in sent)
