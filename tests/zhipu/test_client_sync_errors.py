"""The blocking face's failures against the simulator: errors, retries, timeouts."""

from __future__ import annotations

import time
from typing import Any

import pytest

from glmweb import zhipu
from tests.zhipu.test_client_sync import (  # noqa: F401 (fast_retries is a fixture)
    PNG_B64,
    closed_port,
    fast_retries,
    received,
    say,
)


@pytest.mark.parametrize(
    ("directive", "cls", "status", "code"),
    [
        ("status=429", zhipu.APIReachLimitError, 429, "1302"),
        ("status=429,code=1302", zhipu.APIReachLimitError, 429, "1302"),
        ("status=500", zhipu.APIInternalError, 500, "500"),
        ("status=503", zhipu.APIServerFlowExceedError, 503, "1305"),
        ("status=401", zhipu.APIAuthenticationError, 401, "1000"),
        ("code=1301", zhipu.APIContentFilterError, 400, "1301"),
    ],
)
def test_chat_status_directive_raises_sdk_error_class(
    glm_settings: Any, simulator: Any, directive: str, cls: type, status: int, code: str
) -> None:
    messages, tag = say(f"Hi [[sim:{directive}]]")
    with pytest.raises(cls) as caught:
        zhipu.chat(messages)
    exc = caught.value
    assert type(exc) is cls
    assert (exc.status, exc.code) == (status, code) and exc.message
    assert exc.transient is (status >= 429)
    assert len(received(simulator, tag)) == 1  # ZHIPUAI_MAX_RETRIES is 0 here


@pytest.mark.parametrize(
    ("model", "content", "code"),
    [
        ("glm-nonexistent", "hello", "1211"),
        ("glm-4-flash", None, "1214"),  # empty messages
        ("glm-4-flash", [{"type": "image_url", "image_url": {"url": PNG_B64}}], "1214"),
        (
            "glm-4v",
            [
                {"type": "text", "text": "what?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,@@@"},
                },
            ],
            "1210",
        ),
    ],
    ids=["unknown-model", "empty-messages", "image-to-text-model", "corrupt-base64"],
)
def test_chat_invalid_request_raises_request_failed_with_platform_code(
    glm_settings: Any, model: str, content: Any, code: str
) -> None:
    messages = [] if content is None else [{"role": "user", "content": content}]
    with pytest.raises(zhipu.APIRequestFailedError) as caught:
        zhipu.chat(messages, model=model, max_retries=3)
    assert caught.value.code == code and caught.value.status == 400
    assert not caught.value.transient and not caught.value.retryable


def test_chat_bad_key_raises_authentication_error_without_the_key(
    glm_settings: Any,
) -> None:
    glm_settings.ZHIPUAI_API_KEY = "bad-id.very-secret-value"
    messages, _ = say()
    with pytest.raises(zhipu.APIAuthenticationError) as caught:
        zhipu.chat(messages, max_retries=3)
    exc = caught.value
    assert exc.status == 401 and exc.kind == "auth_failed" and not exc.transient
    assert "very-secret-value" not in f"{exc} {exc!r} {exc.user_message('en')}"
    assert "API key" in exc.user_message("en")


@pytest.mark.parametrize("status", [429, 500, 503])
def test_chat_transient_status_is_retried_until_it_succeeds(
    glm_settings: Any, simulator: Any, status: int
) -> None:
    messages, tag = say(f"Hi [[sim:status={status},fail_times=2]]")
    reply = zhipu.chat(messages, max_retries=3)
    assert tag in reply.content
    assert len(received(simulator, tag)) == 3


def test_chat_gives_up_after_max_retries_from_settings(
    glm_settings: Any, simulator: Any
) -> None:
    glm_settings.ZHIPUAI_MAX_RETRIES = 2
    messages, tag = say("Hi [[sim:status=500,fail_times=9]]")
    with pytest.raises(zhipu.APIInternalError):
        zhipu.chat(messages)
    assert len(received(simulator, tag)) == 3


def test_chat_per_call_max_retries_overrides_settings(
    glm_settings: Any, simulator: Any
) -> None:
    glm_settings.ZHIPUAI_MAX_RETRIES = 3
    messages, tag = say("Hi [[sim:status=503,fail_times=9]]")
    with pytest.raises(zhipu.APIServerFlowExceedError):
        zhipu.chat(messages, max_retries=0)
    assert len(received(simulator, tag)) == 1


@pytest.mark.parametrize(
    "directive, error, status",
    [
        ("status=400,fail_times=1", zhipu.APIRequestFailedError, 400),
        # The platform sends "no balance" as a 429, yet resending cannot help.
        ("code=1113", zhipu.APIQuotaExhaustedError, 429),
    ],
)
def test_chat_permanent_error_is_never_retried(
    glm_settings: Any, simulator: Any, directive: str, error: type, status: int
) -> None:
    messages, tag = say(f"Hi [[sim:{directive}]]")
    with pytest.raises(error) as caught:
        zhipu.chat(messages, max_retries=3)
    assert caught.value.status == status and not caught.value.transient
    assert len(received(simulator, tag)) == 1


def test_chat_no_balance_carries_the_platforms_code_and_message(
    glm_settings: Any,
) -> None:
    messages, _ = say("Hi [[sim:code=1113]]")
    with pytest.raises(zhipu.APIQuotaExhaustedError) as caught:
        zhipu.chat(messages, max_retries=0)
    assert caught.value.code == "1113"
    assert caught.value.platform_message == "余额不足或无可用资源包,请充值。"


def test_chat_honours_retry_after_seconds(glm_settings: Any, simulator: Any) -> None:
    messages, tag = say("Hi [[sim:status=429,retry_after=1,fail_times=1]]")
    started = time.monotonic()
    zhipu.chat(messages, max_retries=1)
    waited = time.monotonic() - started
    assert 0.95 <= waited < 3  # the base backoff here is milliseconds
    first, second = received(simulator, tag)
    assert second["received_at"] - first["received_at"] >= 0.95


def test_chat_rate_limit_error_exposes_retry_after(glm_settings: Any) -> None:
    messages, _ = say("Hi [[sim:status=429,retry_after=7]]")
    with pytest.raises(zhipu.APIReachLimitError) as caught:
        zhipu.chat(messages)
    assert caught.value.retry_after == 7.0


def test_chat_connection_refused_raises_connection_error_after_retries(
    glm_settings: Any,
) -> None:
    glm_settings.ZHIPUAI_BASE_URL = f"http://127.0.0.1:{closed_port()}/api/paas/v4/"
    messages, _ = say()
    with pytest.raises(zhipu.APIConnectionError) as caught:
        zhipu.chat(messages, max_retries=2)
    exc = caught.value
    assert type(exc) is zhipu.APIConnectionError and exc.transient and exc.retryable
    assert exc.kind == "connection_failed" and exc.status is None


def test_stream_chat_connection_refused_raises_connection_error(
    glm_settings: Any,
) -> None:
    glm_settings.ZHIPUAI_BASE_URL = f"http://127.0.0.1:{closed_port()}/api/paas/v4/"
    messages, _ = say()
    with pytest.raises(zhipu.APIConnectionError):
        list(zhipu.stream_chat(messages, max_retries=1))


def test_stream_chat_transient_status_before_content_is_retried(
    glm_settings: Any, simulator: Any
) -> None:
    messages, tag = say("Hi [[sim:status=503,fail_times=1]]")
    deltas = list(zhipu.stream_chat(messages, max_retries=1))
    assert tag in "".join(d.content for d in deltas)
    assert len(received(simulator, tag)) == 2


def test_stream_chat_drop_after_content_raises_interrupted_and_is_not_retried(
    glm_settings: Any, simulator: Any
) -> None:
    glm_settings.ZHIPUAI_MAX_RETRIES = 3
    messages, tag = say("Tell me a long story [[sim:drop_after=3,tokens=20]]")
    seen: list[str] = []
    with pytest.raises(zhipu.StreamInterruptedError) as caught:
        for delta in zhipu.stream_chat(messages):
            seen.append(delta.content)
    exc = caught.value
    assert len(seen) == 3 and exc.partial_content == "".join(seen)
    assert exc.interrupted and exc.transient and exc.request_id
    assert isinstance(exc, zhipu.APIConnectionError)
    assert len(received(simulator, tag)) == 1


def test_stream_chat_stall_fails_after_the_idle_limit(glm_settings: Any) -> None:
    glm_settings.ZHIPUAI_STREAM_IDLE_TIMEOUT = 0.5
    messages, _ = say("Go [[sim:stall_after=2,stall_s=5,tokens=10]]")
    started = time.monotonic()
    with pytest.raises(zhipu.APITimeoutError) as caught:
        list(zhipu.stream_chat(messages))
    assert 0.4 < time.monotonic() - started < 2.5
    assert caught.value.partial_content and caught.value.kind == "timeout"


def test_stream_chat_malformed_event_raises_stream_error_with_text(
    glm_settings: Any,
) -> None:
    messages, _ = say("Go [[sim:malformed_after=2,tokens=10]]")
    seen: list[str] = []
    with pytest.raises(zhipu.APIStreamError) as caught:
        for delta in zhipu.stream_chat(messages):
            seen.append(delta.content)
    assert len(seen) == 2 and caught.value.partial_content == "".join(seen)
    assert "malformed" in str(caught.value)


def test_stream_chat_error_event_raises_the_coded_error(glm_settings: Any) -> None:
    messages, _ = say("Go [[sim:error_event=2,tokens=10]]")
    with pytest.raises(zhipu.APIContentFilterError) as caught:
        list(zhipu.stream_chat(messages))
    exc = caught.value
    assert exc.code == "1301" and exc.status == 200 and exc.partial_content
    assert "安全审核" in exc.user_message("zh-hans")


def test_stream_chat_error_event_rate_limit_code_raises_rate_limited(
    glm_settings: Any,
) -> None:
    messages, _ = say("Go [[sim:error_event=0,code=1302]]")
    with pytest.raises(zhipu.APIReachLimitError) as caught:
        list(zhipu.stream_chat(messages))
    assert caught.value.code == "1302" and not caught.value.interrupted


def test_stream_chat_retryable_error_after_content_is_not_retried(
    glm_settings: Any, simulator: Any
) -> None:
    # A rate-limit error event is retryable before any text; after text it must surface.
    glm_settings.ZHIPUAI_MAX_RETRIES = 3
    messages, tag = say("Go [[sim:error_event=2,code=1302,tokens=10]]")
    with pytest.raises(zhipu.APIReachLimitError) as caught:
        list(zhipu.stream_chat(messages))
    assert caught.value.retryable and caught.value.interrupted
    assert len(received(simulator, tag)) == 1


def test_stream_chat_retryable_error_before_content_is_retried(
    glm_settings: Any, simulator: Any
) -> None:
    messages, tag = say("Go [[sim:error_event=0,code=1302]]")
    with pytest.raises(zhipu.APIReachLimitError):
        list(zhipu.stream_chat(messages, max_retries=2))
    assert len(received(simulator, tag)) == 3
