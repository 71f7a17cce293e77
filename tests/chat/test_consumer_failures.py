"""Every upstream failure ends the reply with a clear, translated error frame, keeps
the user's message and any text that arrived. Faults come from simulator directives."""

from __future__ import annotations

import uuid

import pytest

from chat.models import Message
from tests.chat.conftest import receive_until, send_frame
from tests.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)

# Reply statuses: failed before any text, or cut with the text so far kept.
ENDED, CUT = "error", "interrupted"

# case -> (directive, error code, status, retryable, text kept)
FAILURES = {
    "400": ("[[sim:status=400]]", "bad_request", ENDED, False, False),
    "401": ("[[sim:status=401]]", "auth_failed", ENDED, False, False),
    "429": ("[[sim:status=429]]", "rate_limited", ENDED, True, False),
    "1113": ("[[sim:code=1113]]", "quota_exhausted", ENDED, False, False),
    "1301": ("[[sim:code=1301]]", "content_blocked", ENDED, False, False),
    "1211": ("[[sim:code=1211]]", "bad_request", ENDED, False, False),
    "500": ("[[sim:status=500]]", "server_error", ENDED, True, False),
    "503": ("[[sim:status=503]]", "overloaded", ENDED, True, False),
    "timeout": ("[[sim:stall_s=3]]", "timeout", ENDED, True, False),
    "sensitive": ("[[sim:sensitive]]", "content_blocked", CUT, False, True),
    "malformed": ("[[sim:malformed_after=2]]", "stream_error", CUT, True, True),
    "error_event": ("[[sim:error_event=3,code=1302]]", "rate_limited", CUT, True, True),
    "dropped": ("[[sim:drop_after=5]]", "stream_interrupted", CUT, True, True),
    "stalled": ("[[sim:stall_after=3,stall_s=3]]", "timeout", CUT, True, True),
}  # fmt: skip

# case -> how the user's message starts (en, zh-Hans)
WORDING = {
    "400": ("The request could not be processed", "请求无法被处理"),
    "401": ("The AI service rejected our credentials", "AI 服务认证失败"),
    "429": ("Too many requests right now", "请求太频繁"),
    "1113": ("The AI service account has run out of balance", "AI 服务账户余额不足"),
    "1301": ("The content was blocked by the safety filter", "内容未通过安全审核"),
    "1211": ("The selected model does not exist", "所选模型不存在"),
    "500": ("The AI service had an internal error", "AI 服务内部出错"),
    "503": ("The AI service is busy right now", "AI 服务当前繁忙"),
    "timeout": ("The AI service took too long", "AI 服务响应超时"),
    "sensitive": ("The content was blocked by the safety filter", "内容未通过安全审核"),
    "malformed": ("The AI service reported an error", "AI 服务在回复过程中出错"),
    "error_event": ("Too many requests right now", "请求太频繁"),
    "dropped": ("The reply was cut off on its way here", "回复在传输中断开了"),
    "stalled": ("The AI service took too long", "AI 服务响应超时"),
}  # fmt: skip


@pytest.mark.parametrize("case", FAILURES)
async def test_upstream_failure_ends_the_reply_with_a_translated_error(
    case, glm_settings, ws_connect, user, make_conversation
):
    directive, code, status, retryable, kept = FAILURES[case]
    en_text, zh_text = WORDING[case]
    glm_settings.ZHIPUAI_STREAM_IDLE_TIMEOUT = 0.5
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    conversation = await make_conversation_async(make_conversation, user)
    english = await ws_connect(user, conversation.pk, language="en-US,en;q=0.9")
    chinese = await ws_connect(user, conversation.pk, language="zh-CN,zh;q=0.9")
    await english.receive_json_from()
    await chinese.receive_json_from()
    text = f"Please fail ({case}) {directive}"
    await english.send_json_to(send_frame(text))
    en_end, en_seen = await receive_until(english, "reply.end")
    zh_end, _ = await receive_until(chinese, "reply.end")

    message = en_end["message"]
    assert message["status"] == status
    assert message["error"]["code"] == code
    assert message["error"]["retryable"] is retryable
    assert message["error"]["message"].startswith(en_text)
    assert zh_end["message"]["error"]["message"].startswith(zh_text)
    streamed = "".join(f["content"] for f in en_seen if f["type"] == "reply.delta")
    assert message["content"] == streamed
    assert bool(message["content"]) is kept
    if kept:
        assert message["error"]["message"].endswith(
            "The part of the reply that arrived has been kept."
        )
    saved = await Message.objects.aget(pk=message["id"])
    assert (saved.status, saved.error_code, saved.content) == (
        status,
        code,
        message["content"],
    )
    user_message = await Message.objects.aget(conversation=conversation, role="user")
    assert user_message.content == text


async def reply_on_a_new_conversation(text, user, make_conversation, ws_connect, **kw):
    """Send `text` on a new conversation of `user`; return the socket and reply.end."""
    conversation = await make_conversation_async(make_conversation, user)
    ws = await ws_connect(user, conversation.pk, **kw)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame(text))
    end, _ = await receive_until(ws, "reply.end")
    return ws, end


async def test_platform_refusal_shows_the_platform_message_as_detail(
    glm_settings, ws_connect, user, make_conversation
):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    _, end = await reply_on_a_new_conversation(
        "[[sim:code=1113]]", user, make_conversation, ws_connect, language="en"
    )

    error = end["message"]["error"]
    assert error["message"].startswith("The AI service account has run out of balance")
    assert error["detail"] == "余额不足或无可用资源包,请充值。"
    assert error["retryable"] is False
    saved = await Message.objects.aget(pk=end["message"]["id"])
    assert saved.error_detail == error["detail"]


async def test_unreachable_service_is_connection_failed(
    glm_settings, ws_connect, user, make_conversation
):
    glm_settings.ZHIPUAI_BASE_URL = f"http://127.0.0.1:{free_port()}/api/paas/v4/"
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    _, end = await reply_on_a_new_conversation(
        "Anyone?", user, make_conversation, ws_connect, language="zh-CN"
    )
    assert end["message"]["status"] == "error"
    assert end["message"]["error"]["code"] == "connection_failed"
    assert end["message"]["error"]["retryable"] is True
    assert end["message"]["error"]["detail"] == ""  # the platform said nothing
    assert end["message"]["error"]["message"].startswith("无法连接到 AI 服务")
    assert await Message.objects.filter(content="Anyone?").aexists()


async def test_retry_after_a_failure_regenerates_the_reply(
    glm_settings, ws_connect, user, make_conversation
):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    text = f"Flaky {uuid.uuid4()} [[sim:status=503,fail_times=1]]"
    ws, failed = await reply_on_a_new_conversation(
        text, user, make_conversation, ws_connect
    )
    assert failed["message"]["error"]["retryable"] is True
    await ws.send_json_to({"type": "reply.regenerate", "client_id": str(uuid.uuid4())})
    created, _ = await receive_until(ws, "message.created")
    assert created["superseded"] == [failed["message"]["id"]]
    end, _ = await receive_until(ws, "reply.end")
    assert end["message"]["status"] == "complete"
    assert end["message"]["error"] is None


async def make_conversation_async(make_conversation, user):
    from asgiref.sync import sync_to_async

    return await sync_to_async(make_conversation)(user)
