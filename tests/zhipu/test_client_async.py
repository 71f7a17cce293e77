"""The asyncio face against the running simulator, on both async transports.

Every test runs twice: on aiohttp (through httpx-aiohttp, the default) and on httpx's
own transport, since timeouts and connection errors surface differently in each.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from typing import Any

import pytest

from glmweb import zhipu
from tests.zhipu.test_client_sync import (  # noqa: F401 (fast_retries is a fixture)
    META,
    PNG_B64,
    closed_port,
    fast_retries,
    received,
    say,
)


@pytest.fixture(params=["aiohttp", "httpx"])
def glm(request: pytest.FixtureRequest, glm_settings: Any) -> Any:
    """The simulator settings, with ZHIPUAI_ASYNC_TRANSPORT set to each transport."""
    glm_settings.ZHIPUAI_ASYNC_TRANSPORT = request.param
    return glm_settings


async def collect(
    messages: list[zhipu.Message], **options: Any
) -> list[zhipu.ChatDelta]:
    return [delta async for delta in zhipu.astream_chat(messages, **options)]


async def test_achat_returns_reply_with_payload_as_sent(
    glm: Any, simulator: Any
) -> None:
    tag_messages, tag = say("How are you?")
    reply = await zhipu.achat(tag_messages, model="charglm-3", meta=META, temperature=1)
    assert reply.content and reply.usage and reply.request_id
    body = received(simulator, tag)[0]["json"]
    assert body["meta"] == META and body["temperature"] == 0.99


async def test_achat_image_data_url_arrives_as_bare_base64(
    glm: Any, simulator: Any
) -> None:
    _, tag = say()
    messages: list[zhipu.Message] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": f"Describe #{tag}"},
                {
                    "type": "image_url",
                    "image_url": {"url": f"data:image/png;base64,{PNG_B64}"},
                },
            ],
        }
    ]
    await zhipu.achat(messages, model="glm-4v")
    sent = received(simulator, tag)[0]["json"]["messages"][0]["content"][1]
    assert sent["image_url"]["url"] == PNG_B64


async def test_astream_chat_yields_reasoning_content_search_and_usage(glm: Any) -> None:
    messages, tag = say("Search and think")
    deltas = await collect(
        messages, model="glm-4.7-flash", thinking=True, web_search=True
    )
    assert "".join(d.reasoning for d in deltas)
    assert tag in "".join(d.content for d in deltas)
    assert sum(1 for d in deltas if d.web_search) == 1
    assert deltas[-1].finish_reason == "stop" and deltas[-1].usage.total_tokens > 0


async def test_astream_chat_sensitive_ends_with_a_sensitive_delta(glm: Any) -> None:
    messages, _ = say("Hmm [[sim:sensitive]]")
    deltas = await collect(messages)
    assert deltas[-1].finish_reason == "sensitive"


async def test_astream_chat_many_concurrent_streams_all_complete(glm: Any) -> None:
    batches = [say(f"Stream {i}") for i in range(20)]
    results = await asyncio.gather(*(collect(messages) for messages, _ in batches))
    for (_, tag), deltas in zip(batches, results, strict=True):
        assert tag in "".join(d.content for d in deltas)


async def test_astream_chat_stall_fails_after_the_idle_limit(glm: Any) -> None:
    glm.ZHIPUAI_STREAM_IDLE_TIMEOUT = 0.5
    messages, _ = say("Go [[sim:stall_after=2,stall_s=5,tokens=10]]")
    started = time.monotonic()
    with pytest.raises(zhipu.APITimeoutError) as caught:
        await collect(messages)
    assert 0.4 < time.monotonic() - started < 2.5
    assert caught.value.partial_content and caught.value.transient


async def test_astream_chat_drop_raises_interrupted_and_is_not_retried(
    glm: Any, simulator: Any
) -> None:
    glm.ZHIPUAI_MAX_RETRIES = 3
    messages, tag = say("Story [[sim:drop_after=3,tokens=20]]")
    seen: list[str] = []
    with pytest.raises(zhipu.StreamInterruptedError) as caught:
        async for delta in zhipu.astream_chat(messages):
            seen.append(delta.content)
    assert len(seen) == 3 and caught.value.partial_content == "".join(seen)
    assert len(received(simulator, tag)) == 1


async def test_astream_chat_malformed_event_raises_stream_error(glm: Any) -> None:
    messages, _ = say("Go [[sim:malformed_after=1,tokens=10]]")
    with pytest.raises(zhipu.APIStreamError) as caught:
        await collect(messages)
    assert caught.value.partial_content


async def test_astream_chat_error_event_raises_content_filter_error(glm: Any) -> None:
    messages, _ = say("Go [[sim:error_event=1,tokens=10]]")
    with pytest.raises(zhipu.APIContentFilterError):
        await collect(messages)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (429, zhipu.APIReachLimitError),
        (500, zhipu.APIInternalError),
        (503, zhipu.APIServerFlowExceedError),
        (401, zhipu.APIAuthenticationError),
    ],
)
async def test_astream_chat_error_status_raises_sdk_class(
    glm: Any, status: int, cls: type
) -> None:
    messages, _ = say(f"Hi [[sim:status={status}]]")
    with pytest.raises(cls) as caught:
        await collect(messages)
    assert caught.value.status == status and caught.value.code


async def test_astream_chat_transient_status_before_content_is_retried(
    glm: Any, simulator: Any
) -> None:
    messages, tag = say("Hi [[sim:status=429,fail_times=2]]")
    deltas = await collect(messages, max_retries=2)
    assert tag in "".join(d.content for d in deltas)
    assert len(received(simulator, tag)) == 3


async def test_achat_bad_request_raises_request_failed(glm: Any) -> None:
    messages, _ = say()
    with pytest.raises(zhipu.APIRequestFailedError) as caught:
        await zhipu.achat(messages, model="no-such-model", max_retries=2)
    assert caught.value.code == "1211"


async def test_achat_connection_refused_raises_connection_error(glm: Any) -> None:
    glm.ZHIPUAI_BASE_URL = f"http://127.0.0.1:{closed_port()}/api/paas/v4/"
    messages, _ = say()
    with pytest.raises(zhipu.APIConnectionError) as caught:
        await zhipu.achat(messages, max_retries=1)
    assert type(caught.value) is zhipu.APIConnectionError and caught.value.retryable


async def test_astream_chat_connection_refused_raises_connection_error(
    glm: Any,
) -> None:
    glm.ZHIPUAI_BASE_URL = f"http://127.0.0.1:{closed_port()}/api/paas/v4/"
    messages, _ = say()
    with pytest.raises(zhipu.APIConnectionError):
        await collect(messages)


async def test_astream_chat_closed_early_returns_the_connection(glm: Any) -> None:
    messages, _ = say("Long [[sim:tokens=200,rate=50]]")
    started = time.monotonic()
    async with aclosing(zhipu.astream_chat(messages)) as stream:
        async for _delta in stream:
            break
    assert time.monotonic() - started < 1.5  # did not wait for the 4 s reply to end
    messages, tag = say()
    assert tag in (await zhipu.achat(messages)).content  # the pool still works


async def test_avideo_submit_then_poll_until_success(glm: Any) -> None:
    task = await zhipu.asubmit_video(
        "A paper boat in the rain", model="cogvideox-2", duration=5
    )
    deadline = time.monotonic() + 15
    result = await zhipu.aget_video_result(task.task_id)
    while not result.done and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        result = await zhipu.aget_video_result(task.task_id)
    assert result.status is zhipu.VideoStatus.SUCCESS and result.video_url


async def test_astream_assistant_continues_a_conversation(glm: Any) -> None:
    (agent, *_) = await zhipu.alist_assistants()
    reply = await zhipu.aassistant_chat(agent.assistant_id, "Hello")
    deltas = [
        d
        async for d in zhipu.astream_assistant(
            agent.assistant_id, "Go on", conversation_id=reply.conversation_id
        )
    ]
    assert "".join(d.content for d in deltas)
    assert deltas[-1].conversation_id == reply.conversation_id


async def test_astream_chat_retryable_error_after_content_is_not_retried(
    glm: Any, simulator: Any
) -> None:
    glm.ZHIPUAI_MAX_RETRIES = 3
    messages, tag = say("Go [[sim:error_event=2,code=1303,tokens=10]]")
    with pytest.raises(zhipu.APIReachLimitError) as caught:
        await collect(messages)
    assert caught.value.partial_content
    assert len(received(simulator, tag)) == 1
