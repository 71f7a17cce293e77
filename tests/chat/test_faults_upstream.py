"""Upstream faults with the client's retries on, as in production (ZHIPUAI_MAX_RETRIES;
tests/chat/test_consumer_failures.py covers each fault with retries off): a transient
status is resent after a backoff and the user sees only the finished reply; a platform
that hangs up after taking the request is not asked twice. Faults come from simulator
directives."""

from __future__ import annotations

import uuid
from itertools import pairwise

import pytest

from chat.models import Message
from tests.chat.conftest import receive_until, send_frame
from tests.chat.test_consumer_failures import make_conversation_async

pytestmark = pytest.mark.django_db(transaction=True)


def received(simulator, tag: str) -> list[dict]:
    """Return the chat requests whose last message carries `tag`, oldest first."""
    return [
        entry
        for entry in simulator.requests()
        if entry["path"].endswith("chat/completions")
        and tag in str((entry.get("json") or {}).get("messages", [{}])[-1])
    ]


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_transient_status_is_retried_after_a_backoff_and_the_reply_completes(
    status, glm_settings, ws_connect, user, make_conversation, simulator
):
    glm_settings.ZHIPUAI_MAX_RETRIES = 2
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    conversation = await make_conversation_async(make_conversation, user)
    ws = await ws_connect(user, conversation.pk, language="zh-CN")
    await ws.receive_json_from()
    tag = uuid.uuid4().hex
    text = f"Busy {tag} [[sim:status={status},fail_times=1]]"
    await ws.send_json_to(send_frame(text))
    end, seen = await receive_until(ws, "reply.end")

    assert end["message"]["status"] == "complete"
    assert end["message"]["error"] is None
    assert tag in end["message"]["content"]
    assert not [f for f in seen if f["type"] == "error"]
    sent = received(simulator, tag)
    assert len(sent) == 2  # the failure, then the resend that answered
    gaps = [b["received_at"] - a["received_at"] for a, b in pairwise(sent)]
    assert gaps[0] >= 0.5  # backed off (the first wait is 0.75-1 s), not hammered
    saved = await Message.objects.aget(pk=end["message"]["id"])
    assert (saved.status, saved.content) == ("complete", end["message"]["content"])
    assert await Message.objects.filter(role="user", content=text).aexists()


async def test_hang_up_after_the_request_arrived_is_not_resent_and_is_explained(
    glm_settings, ws_connect, user, make_conversation, simulator
):
    glm_settings.ZHIPUAI_MAX_RETRIES = 2
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    conversation = await make_conversation_async(make_conversation, user)
    english = await ws_connect(user, conversation.pk, language="en")
    chinese = await ws_connect(user, conversation.pk, language="zh-CN")
    await english.receive_json_from()
    await chinese.receive_json_from()
    tag = uuid.uuid4().hex
    text = f"Hung up on {tag} [[sim:hang_up]]"
    await english.send_json_to(send_frame(text))
    end, _ = await receive_until(english, "reply.end")
    zh_end, _ = await receive_until(chinese, "reply.end")

    error = end["message"]["error"]
    assert (end["message"]["status"], error["code"]) == ("error", "stream_interrupted")
    assert error["message"].startswith("The reply was cut off on its way here")
    assert zh_end["message"]["error"]["message"].startswith("回复在传输中断开了")
    assert error["retryable"] is True  # the user may ask again; the app did not
    assert len(received(simulator, tag)) == 1
    assert await Message.objects.filter(role="user", content=text).aexists()
