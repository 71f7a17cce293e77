"""Both faces read a reply whose bytes arrive one at a time (httpx.MockTransport).

This is the only place a fake transport stands in for the simulator: a real socket
cannot be made to cut a reply at every byte.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest

from glmweb import zhipu
from glmweb.zhipu.transport import ClientConfig

BASE_URL = "http://glm.test/api/paas/v4/"
TOKENS = ["你好", "，", "世界", "🌏", " ok"]


def reply(newline: bytes) -> bytes:
    events = [
        {
            "id": "r1",
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "reasoning_content": "想一想"},
                }
            ],
        },
        *(
            {"id": "r1", "choices": [{"index": 0, "delta": {"content": t}}]}
            for t in TOKENS
        ),
        {
            "id": "r1",
            "choices": [{"index": 0, "finish_reason": "stop", "delta": {}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 6, "total_tokens": 7},
        },
    ]
    body = b"".join(b"data: " + orjson.dumps(e) + b"\n\n" for e in events)
    body = b": keep-alive\n\n" + body + b"data: [DONE]\n\n"
    return body.replace(b"\n", newline)


def byte_by_byte(data: bytes) -> Iterator[bytes]:
    for i in range(len(data)):
        yield data[i : i + 1]


async def abyte_by_byte(data: bytes) -> AsyncIterator[bytes]:
    for i in range(len(data)):
        yield data[i : i + 1]


def check(deltas: list[zhipu.ChatDelta]) -> None:
    assert "".join(d.content for d in deltas) == "".join(TOKENS)
    assert "".join(d.reasoning for d in deltas) == "想一想"
    assert deltas[-1].finish_reason == "stop" and deltas[-1].usage.total_tokens == 7


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_sse_sync_face_reads_reply_split_at_every_byte(newline: bytes) -> None:
    data = reply(newline)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=byte_by_byte(data),
        )

    http = httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(handler))
    client = zhipu.Client(ClientConfig(base_url=BASE_URL), http=http)
    check(list(client.stream_chat([{"role": "user", "content": "hi"}])))


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
async def test_sse_async_face_reads_reply_split_at_every_byte(newline: bytes) -> None:
    data = reply(newline)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=abyte_by_byte(data),
        )

    http = httpx.AsyncClient(base_url=BASE_URL, transport=httpx.MockTransport(handler))
    client = zhipu.AsyncClient(ClientConfig(base_url=BASE_URL), http=http)
    check(
        [
            delta
            async for delta in client.stream_chat([{"role": "user", "content": "hi"}])
        ]
    )
    await client.aclose()


def test_sse_sync_face_body_cut_mid_event_raises_interrupted_with_text() -> None:
    data = reply(b"\n")
    cut = data.index(b"\xf0\x9f")  # inside the emoji's event

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=byte_by_byte(data[: cut + 2]))

    http = httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(handler))
    client = zhipu.Client(ClientConfig(base_url=BASE_URL), http=http)
    with pytest.raises(zhipu.StreamInterruptedError) as caught:
        list(client.stream_chat([{"role": "user", "content": "hi"}]))
    assert caught.value.partial_content == "你好，世界"
