"""The blocking face against the running simulator, over a real socket.

Faults come from `[[sim:...]]` directives in the last user message. Every message
carries a fresh tag, so the simulator's per-text `fail_times` counters and its request
log never mix up two tests.
"""

from __future__ import annotations

import socket
import time
import uuid
from typing import Any

import pytest

from glmweb import zhipu
from glmweb.zhipu import retry

PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg=="
)
META: zhipu.CharacterMeta = {
    "user_info": "A film director who makes music films.",
    "bot_info": "A popular singer and actress.",
    "bot_name": "Xiaoya",
    "user_name": "Director",
}


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrink the backoff so retry tests take milliseconds (Retry-After stays)."""
    monkeypatch.setattr(retry, "RETRY_BASE_DELAY", 0.005)


def say(text: str = "Hello there") -> tuple[list[zhipu.Message], str]:
    """Return one user message with a unique tag, and the tag."""
    tag = uuid.uuid4().hex[:12]
    return [{"role": "user", "content": f"{text} #{tag}"}], tag


def received(simulator: Any, tag: str, path: str = "chat/completions") -> list[dict]:
    """Return the requests to `path` whose body mentions `tag`."""
    return [
        entry
        for entry in simulator.requests()
        if entry["path"].endswith(path) and tag in str(entry["json"])
    ]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


# --- Happy paths -----------------------------------------------------------------


def test_chat_returns_content_usage_and_request_id(
    glm_settings: Any, simulator: Any
) -> None:
    messages, tag = say()
    reply = zhipu.chat(messages, model="glm-4-flash")
    assert tag in reply.content
    assert reply.finish_reason == "stop" and not reply.blocked
    assert (
        reply.usage.total_tokens
        == reply.usage.prompt_tokens + reply.usage.completion_tokens
    )
    assert reply.request_id and reply.model == "glm-4-flash"
    (entry,) = received(simulator, tag)
    assert entry["headers"]["authorization"] == "Bearer test-id.test-secret"
    assert entry["json"]["stream"] is False


def test_chat_without_api_key_sends_the_simulator_placeholder(
    glm_settings: Any, simulator: Any
) -> None:
    glm_settings.ZHIPUAI_API_KEY = ""
    messages, tag = say()
    zhipu.chat(messages)
    (entry,) = received(simulator, tag)
    assert entry["headers"]["authorization"] == "Bearer simulator.local"


@pytest.mark.parametrize("suffix", ["/api/paas/v4", "/api/paas/v4/"])
def test_chat_base_url_with_or_without_trailing_slash_reaches_the_api(
    glm_settings: Any, simulator: Any, suffix: str
) -> None:
    # ZHIPUAI_BASE_URL is copied from docs by hand (Z.ai's is .../api/paas/v4): both
    # spellings must land on the same endpoint.
    glm_settings.ZHIPUAI_BASE_URL = simulator.root + suffix
    messages, tag = say()
    assert tag in zhipu.chat(messages).content
    (entry,) = received(simulator, tag)
    assert entry["path"] == "/api/paas/v4/chat/completions"


def test_chat_request_id_we_send_is_echoed(glm_settings: Any) -> None:
    messages, _ = say()
    assert (
        zhipu.chat(messages, request_id="my-request-0001").request_id
        == "my-request-0001"
    )


def test_chat_meta_reaches_charglm_unchanged(glm_settings: Any, simulator: Any) -> None:
    messages, tag = say("How have you been?")
    reply = zhipu.chat(messages, model="charglm-3", meta=META)
    assert reply.content
    assert received(simulator, tag)[0]["json"]["meta"] == META


def test_chat_data_url_image_arrives_as_bare_base64(
    glm_settings: Any, simulator: Any
) -> None:
    tag = uuid.uuid4().hex[:12]
    messages: list[zhipu.Message] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": f"What is in this picture? #{tag}"},
                {
                    "type": "image_url",
                    "image_url": {"url": f"data:image/png;base64,{PNG_B64}"},
                },
            ],
        }
    ]
    reply = zhipu.chat(messages, model="glm-4v")
    assert reply.content
    sent = received(simulator, tag)[0]["json"]["messages"][0]["content"][1]
    assert sent == {"type": "image_url", "image_url": {"url": PNG_B64}}
    assert messages[0]["content"][1]["image_url"]["url"].startswith("data:image/png")


def test_chat_sampling_arrives_clamped_like_the_sdk(
    glm_settings: Any, simulator: Any
) -> None:
    messages, tag = say()
    zhipu.chat(messages, temperature=0, top_p=1, max_tokens=64)
    body = received(simulator, tag)[0]["json"]
    assert (body["temperature"], body["do_sample"], body["top_p"]) == (
        0.01,
        False,
        0.99,
    )
    assert body["max_tokens"] == 64


def test_chat_web_search_returns_cited_sources(
    glm_settings: Any, simulator: Any
) -> None:
    messages, tag = say("What happened in AI this week?")
    reply = zhipu.chat(messages, web_search={"search_query": "AI news"})
    assert reply.web_search and all(
        page.link.startswith("http") for page in reply.web_search
    )
    (tool,) = received(simulator, tag)[0]["json"]["tools"]
    assert tool["type"] == "web_search" and tool["web_search"]["enable"] is True
    assert tool["web_search"]["search_query"] == "AI news"


def test_chat_thinking_returns_reasoning(glm_settings: Any, simulator: Any) -> None:
    messages, tag = say("Why is the sky blue?")
    reply = zhipu.chat(messages, model="glm-4.7-flash", thinking=True)
    assert reply.reasoning and reply.content
    assert received(simulator, tag)[0]["json"]["thinking"] == {"type": "enabled"}


def test_stream_chat_yields_reasoning_then_content_then_usage(
    glm_settings: Any,
) -> None:
    messages, tag = say()
    deltas = list(
        zhipu.stream_chat(messages, model="glm-4.7-flash", thinking="enabled")
    )
    kinds = ["r" if d.reasoning else "c" for d in deltas if d.reasoning or d.content]
    assert kinds == sorted(kinds, reverse=True) and "r" in kinds and "c" in kinds
    assert tag in "".join(d.content for d in deltas)
    assert deltas[-1].finish_reason == "stop" and deltas[-1].usage is not None
    assert all(d.usage is None for d in deltas[:-1])
    assert len({d.request_id for d in deltas}) == 1


def test_stream_chat_web_search_results_arrive_on_a_delta(glm_settings: Any) -> None:
    messages, _ = say("Latest GLM release?")
    deltas = list(zhipu.stream_chat(messages, web_search=True))
    assert sum(1 for d in deltas if d.web_search) == 1


def test_stream_chat_sensitive_ends_with_a_sensitive_delta(glm_settings: Any) -> None:
    messages, _ = say("Tell me something [[sim:sensitive]]")
    deltas = list(zhipu.stream_chat(messages))
    assert deltas[-1].finish_reason == "sensitive"
    assert "".join(d.content for d in deltas)


def test_chat_sensitive_is_a_blocked_reply_not_an_error(glm_settings: Any) -> None:
    messages, _ = say("Tell me something [[sim:sensitive]]")
    assert zhipu.chat(messages).blocked


# --- Video and assistant ---------------------------------------------------------


def test_video_submit_then_poll_until_success(
    glm_settings: Any, simulator: Any
) -> None:
    task = zhipu.submit_video(
        "A cat playing piano",
        model="cogvideox-3",
        quality="speed",
        with_audio=True,
        size="1920x1080",
        fps=30,
        user_id="user-0001",
    )
    assert task.task_id and task.status is zhipu.VideoStatus.PROCESSING
    sent = simulator.last_request("videos/generations")["json"]
    assert sent == {
        "model": "cogvideox-3",
        "prompt": "A cat playing piano",
        "quality": "speed",
        "with_audio": True,
        "size": "1920x1080",
        "fps": 30,
        "user_id": "user-0001",
    }
    deadline = time.monotonic() + 15
    result = zhipu.get_video_result(task.task_id)
    while not result.done and time.monotonic() < deadline:
        time.sleep(0.25)
        result = zhipu.get_video_result(task.task_id)
    assert result.status is zhipu.VideoStatus.SUCCESS
    assert result.video_url.startswith("http") and result.cover_url.startswith("http")
    assert result.task_id == task.task_id


def test_video_failure_directive_yields_fail_status(glm_settings: Any) -> None:
    task = zhipu.submit_video("Fails [[sim:video_fail,ready_after=0]]")
    deadline = time.monotonic() + 10
    result = zhipu.get_video_result(task.task_id)
    while not result.done and time.monotonic() < deadline:
        time.sleep(0.2)
        result = zhipu.get_video_result(task.task_id)
    assert (
        result.status is zhipu.VideoStatus.FAIL
        and result.error
        and not result.video_url
    )


def test_video_result_of_unknown_task_is_rejected(glm_settings: Any) -> None:
    with pytest.raises(zhipu.GLMRejected):
        zhipu.get_video_result("no-such-task")


def test_assistant_list_then_chat_keeps_the_conversation(glm_settings: Any) -> None:
    agents = zhipu.list_assistants()
    assert agents and agents[0].assistant_id and agents[0].name
    first = zhipu.assistant_chat(agents[0].assistant_id, "Hello")
    assert first.content and first.conversation_id and first.status == "completed"
    again = zhipu.assistant_chat(
        agents[0].assistant_id, "And now?", conversation_id=first.conversation_id
    )
    assert again.conversation_id == first.conversation_id


def test_stream_assistant_yields_text_and_conversation(glm_settings: Any) -> None:
    (agent,) = zhipu.list_assistants(["659e54b1b8006379b4b2abd6"])
    deltas = list(zhipu.stream_assistant(agent.assistant_id, "Hi, who are you?"))
    assert "".join(d.content for d in deltas)
    assert deltas[-1].finish_reason == "stop" and deltas[-1].conversation_id


def test_stream_assistant_parses_a_tool_call_chunk(glm_settings: Any) -> None:
    deltas = list(
        zhipu.stream_assistant(
            "659e54b1b8006379b4b2abd6", "Compute it [[sim:tool=code_interpreter]]"
        )
    )
    (call,) = [c for d in deltas for c in d.tool_calls]
    assert (call.type, call.input) == ("code_interpreter", "Compute it")
    assert call.outputs == (zhipu.ToolOutput(logs="42\n"),)
    assert not deltas[0].content  # the tool runs before the answer is written
    assert "".join(d.content for d in deltas) and deltas[-1].finish_reason == "stop"


def test_stream_assistant_raises_when_the_run_fails_mid_stream(
    glm_settings: Any,
) -> None:
    stream = zhipu.stream_assistant(
        "659e54b1b8006379b4b2abd6", "Go [[sim:error_event=2,code=1234]]"
    )
    seen = []
    with pytest.raises(zhipu.GLMError) as caught:
        for delta in stream:
            seen.append(delta.content)
    assert len(seen) == 2 and all(seen)
    assert caught.value.code == "1234"
    assert "simulated agent failure" in caught.value.platform_message
