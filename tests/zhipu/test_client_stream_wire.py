"""Odd but legal stream shapes, served by the running simulator over a real socket, read
by every face of the client: the sync client and the async one on both transports.

The simulator's framing directives (docs/simulator.md) reshape only the bytes, so each
reply must read exactly like the plain one."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from glmweb import zhipu


@pytest.fixture(params=["sync", "aiohttp", "httpx"])
def face(request: pytest.FixtureRequest, glm_settings: Any) -> str:
    if request.param != "sync":
        glm_settings.ZHIPUAI_ASYNC_TRANSPORT = request.param
    return request.param


async def stream(face: str, text: str) -> list[zhipu.ChatDelta]:
    messages: list[zhipu.Message] = [{"role": "user", "content": text}]
    if face == "sync":
        return await asyncio.to_thread(lambda: list(zhipu.stream_chat(messages)))
    return [delta async for delta in zhipu.astream_chat(messages)]


def text_of(deltas: list[zhipu.ChatDelta]) -> str:
    return "".join(d.content for d in deltas)


@pytest.mark.parametrize(
    "shape",
    [
        "crlf",  # CRLF line ends
        "keepalive",  # comment and empty-comment keep-alive lines before every event
        "sse_fields",  # event:/id:/retry: fields, and data: without its space
        "crlf,keepalive,sse_fields",
        "split=1",  # one write per byte: reads cut inside every UTF-8 character
        "split=5,crlf",  # CRLF pairs cut between reads
    ],
)
async def test_stream_wire_shape_reads_like_the_plain_reply(
    face: str, shape: str
) -> None:
    text = f"你好，世界 {uuid.uuid4().hex[:6]}"
    plain = await stream(face, f"{text} [[sim:tokens=12]]")
    deltas = await stream(face, f"{text} [[sim:{shape},tokens=12]]")
    assert text_of(deltas) == text_of(plain)
    assert len([d for d in deltas if d.content]) == 12
    assert "你" in text_of(deltas)
    assert deltas[-1].finish_reason == "stop" and deltas[-1].usage is not None


async def test_stream_wire_body_ending_without_done_keeps_text_and_raises_interrupted(
    face: str,
) -> None:
    with pytest.raises(zhipu.StreamInterruptedError) as caught:
        await stream(face, "Tell me a story [[sim:end_after=3]]")
    error = caught.value
    assert error.interrupted and error.transient
    assert error.partial_content and len(error.partial_content) >= 3
    assert error.user_message("zh-hans") and error.user_message("en")


async def test_stream_wire_final_chunk_without_done_completes(face: str) -> None:
    deltas = await stream(face, "Short one [[sim:no_done,tokens=4]]")
    assert len([d for d in deltas if d.content]) == 4
    assert deltas[-1].finish_reason == "stop"
