"""The per-reply stream state: SSE events in, ChatDeltas or errors out (no network)."""

from __future__ import annotations

import orjson
import pytest

from glmweb import zhipu
from glmweb.zhipu.streams import AssistantStream, ChatStream


def chunk(content: str = "", reasoning: str = "", **top: object) -> bytes:
    delta: dict[str, object] = {"role": "assistant"}
    if content:
        delta["content"] = content
    if reasoning:
        delta["reasoning_content"] = reasoning
    choice: dict[str, object] = {"index": 0, "delta": delta}
    if "finish_reason" in top:
        choice["finish_reason"] = top.pop("finish_reason")
    body = {"id": "req-1", "model": "glm-4-flash", "choices": [choice], **top}
    return b"data: " + orjson.dumps(body) + b"\n\n"


DONE = b"data: [DONE]\n\n"
USAGE = {
    "prompt_tokens": 5,
    "completion_tokens": 3,
    "total_tokens": 8,
    "completion_tokens_details": {"reasoning_tokens": 1},
}


def run(data: bytes) -> tuple[ChatStream, list[zhipu.ChatDelta]]:
    state = ChatStream()
    deltas = state.feed(data)
    return state, deltas


def test_sse_chat_stream_yields_reasoning_then_content_then_usage() -> None:
    data = (
        chunk(reasoning="think")
        + chunk("Hel")
        + chunk("lo")
        + chunk(finish_reason="stop", usage=USAGE)
        + DONE
    )
    state, deltas = run(data)
    state.finish()
    assert [(d.reasoning, d.content) for d in deltas] == [
        ("think", ""),
        ("", "Hel"),
        ("", "lo"),
        ("", ""),
    ]
    assert deltas[-1].finish_reason == "stop"
    assert deltas[-1].usage == zhipu.Usage(5, 3, 8, reasoning_tokens=1)
    assert all(d.usage is None for d in deltas[:-1])
    assert deltas[0].request_id == "req-1"


def test_sse_chat_stream_role_only_chunk_yields_nothing() -> None:
    _, deltas = run(chunk())
    assert deltas == []


def test_sse_chat_stream_web_search_on_a_chunk_is_parsed() -> None:
    pages = [
        {
            "title": "GLM",
            "link": "https://example.com/glm",
            "content": "about",
            "refer": "ref_1",
            "media": "Example",
            "icon": "",
            "publish_date": "2026-01-01",
        }
    ]
    _, deltas = run(chunk("A", web_search=pages))
    (page,) = deltas[0].web_search
    assert page == zhipu.SearchResult(
        title="GLM",
        link="https://example.com/glm",
        content="about",
        media="Example",
        refer="ref_1",
        publish_date="2026-01-01",
    )


def test_sse_chat_stream_sensitive_finish_is_a_normal_final_delta() -> None:
    state, deltas = run(
        chunk("partial") + chunk(finish_reason="sensitive", usage=USAGE) + DONE
    )
    state.finish()  # no exception: the caller shows the content-filter notice
    assert deltas[-1].finish_reason == "sensitive"


def test_sse_chat_stream_error_object_raises_classified_error() -> None:
    state = ChatStream()
    state.feed(chunk("so far"))
    error = {"error": {"code": "1302", "message": "concurrency"}, "request_id": "r-9"}
    with pytest.raises(zhipu.APIReachLimitError) as caught:
        state.feed(b"data: " + orjson.dumps(error) + b"\n\n")
    exc = caught.value
    assert (exc.code, exc.message, exc.request_id) == ("1302", "concurrency", "r-9")
    assert exc.transient and exc.retryable and exc.partial_content == "so far"


def test_sse_chat_stream_error_event_with_int_code_raises_content_filter_error() -> (
    None
):
    data = b'event: error\ndata: {"error":{"code":1301,"message":"unsafe"}}\n\n' + DONE
    with pytest.raises(zhipu.APIContentFilterError) as caught:
        run(data)
    assert caught.value.code == "1301"
    assert not caught.value.transient


def test_sse_chat_stream_error_event_with_text_data_raises_stream_error() -> None:
    with pytest.raises(zhipu.APIStreamError, match="upstream exploded"):
        run(b"event: error\ndata: upstream exploded\n\n")


def test_sse_chat_stream_unknown_error_code_raises_stream_error() -> None:
    with pytest.raises(zhipu.APIStreamError) as caught:
        run(b'data: {"error":{"code":"9999","message":"odd"}}\n\n')
    assert caught.value.code == "9999" and caught.value.transient


def test_sse_chat_stream_malformed_json_raises_with_text_so_far() -> None:
    state = ChatStream()
    state.feed(chunk("Hello "))
    with pytest.raises(zhipu.APIStreamError, match="malformed JSON") as caught:
        state.feed(b"data: {broken json\n\n")
    assert caught.value.partial_content == "Hello "
    assert caught.value.interrupted


def test_sse_chat_stream_non_object_event_raises_stream_error() -> None:
    with pytest.raises(zhipu.APIStreamError, match="not a JSON object"):
        run(b"data: [1, 2]\n\n")


def test_sse_chat_stream_good_events_before_bad_one_are_delivered_first() -> None:
    state = ChatStream()
    deltas = state.feed(chunk("a") + chunk("b") + b"data: {oops\n\n" + chunk("never"))
    assert [d.content for d in deltas] == ["a", "b"]
    with pytest.raises(zhipu.APIStreamError) as caught:
        state.feed(DONE)
    assert caught.value.partial_content == "ab"


def test_sse_chat_stream_end_without_done_raises_interrupted_with_text() -> None:
    state = ChatStream()
    state.feed(chunk(reasoning="hmm") + chunk("half a rep"))
    with pytest.raises(zhipu.StreamInterruptedError) as caught:
        state.finish()
    exc = caught.value
    assert isinstance(exc, zhipu.APIConnectionError) and exc.transient
    assert (exc.partial_content, exc.partial_reasoning) == ("half a rep", "hmm")
    assert exc.request_id == "req-1"
    assert "保留" in exc.user_message("zh-hans") and "kept" in exc.user_message("en")


def test_sse_chat_stream_end_mid_event_says_so() -> None:
    state = ChatStream()
    state.feed(chunk("x") + b'data: {"choices"')
    with pytest.raises(zhipu.StreamInterruptedError, match="middle of an event"):
        state.finish()


def test_sse_chat_stream_events_after_done_are_ignored() -> None:
    state, deltas = run(chunk("a") + DONE + b"data: {not json\n\n" + chunk("b"))
    state.finish()
    assert [d.content for d in deltas] == ["a"]


def test_sse_chat_stream_marks_delivered_only_after_a_delta() -> None:
    state = ChatStream()
    state.feed(chunk())
    assert not state.delivered
    state.feed(chunk("x"))
    assert state.delivered


def test_sse_assistant_stream_collects_text_tool_calls_and_conversation() -> None:
    def event(**body: object) -> bytes:
        return b"data: " + orjson.dumps(body) + b"\n\n"

    tool = {
        "type": "web_browser",
        "web_browser": {
            "input": "q",
            "outputs": [{"title": "T", "link": "https://x.test", "content": "c"}],
        },
    }
    data = (
        event(
            id="a1",
            conversation_id="c1",
            status="in_progress",
            choices=[
                {
                    "index": 0,
                    "delta": {
                        "type": "tool_calls",
                        "role": "tool",
                        "tool_calls": [tool],
                    },
                }
            ],
        )
        + event(
            id="a1",
            conversation_id="c1",
            status="in_progress",
            choices=[{"index": 0, "delta": {"type": "content", "content": "Hi"}}],
        )
        + event(
            id="a1",
            conversation_id="c1",
            status="completed",
            usage=USAGE,
            choices=[
                {
                    "index": 0,
                    "delta": {"type": "content", "content": ""},
                    "finish_reason": "stop",
                }
            ],
        )
    )
    state = AssistantStream()
    deltas = state.feed(data)
    state.finish()  # "completed" ends the stream even without [DONE]
    assert deltas[0].tool_calls[0].outputs[0].link == "https://x.test"
    assert "".join(d.content for d in deltas) == "Hi"
    assert deltas[-1].finish_reason == "stop" and deltas[-1].conversation_id == "c1"


def test_sse_assistant_stream_failed_status_raises_with_last_error() -> None:
    data = b'data: {"status":"failed","last_error":{"code":"1301","message":"no"}}\n\n'
    with pytest.raises(zhipu.APIContentFilterError):
        AssistantStream().feed(data)
