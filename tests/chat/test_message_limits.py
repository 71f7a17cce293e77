"""Replies a user may start per minute (GLMWEB_MESSAGES_PER_MINUTE): one more is
refused with an error frame, code rate_limited, and nothing is saved."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import sync_to_async

from chat import message_limits
from chat.models import Message
from tests.chat.conftest import receive_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_counts():
    message_limits.forget()
    yield
    message_limits.forget()


async def test_a_send_past_the_limit_is_refused_rate_limited(
    glm_settings, settings, ws_connect, user, make_conversation
):
    settings.GLMWEB_MESSAGES_PER_MINUTE = 2
    conversation = await sync_to_async(make_conversation)(user)
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from(5)  # history
    await ws.send_json_to(
        {"type": "message.send", "client_id": str(uuid.uuid4()), "text": "one"}
    )
    await receive_until(ws, "reply.end")
    await ws.send_json_to({"type": "reply.regenerate", "client_id": str(uuid.uuid4())})
    await receive_until(ws, "reply.end")
    client_id = str(uuid.uuid4())

    await ws.send_json_to({"type": "message.send", "client_id": client_id, "text": "3"})

    frame = await ws.receive_json_from(5)
    assert frame["type"] == "error" and frame["code"] == "rate_limited"
    assert frame["client_id"] == client_id
    assert "too fast" in frame["message"]
    assert not await Message.objects.filter(content="3").aexists()
    # Stopping is never limited, and the socket stays up. (A conversation.updated
    # frame for the first exchange's title may still arrive: under load the title is
    # late; anything else would be an answer to the stop.)
    await ws.send_json_to({"type": "reply.stop"})
    while not await ws.receive_nothing(0.3):
        assert (await ws.receive_json_from())["type"] == "conversation.updated"


async def test_the_limit_is_per_user(
    glm_settings, settings, ws_connect, user, other_user, make_conversation
):
    settings.GLMWEB_MESSAGES_PER_MINUTE = 1
    mine = await sync_to_async(make_conversation)(user)
    theirs = await sync_to_async(make_conversation)(other_user)
    for owner, conversation in ((user, mine), (other_user, theirs)):
        ws = await ws_connect(owner, conversation.pk, language="zh-hans")
        await ws.receive_json_from(5)
        await ws.send_json_to(
            {"type": "message.send", "client_id": str(uuid.uuid4()), "text": "hi"}
        )
        created, _ = await receive_until(ws, "message.created")
        await receive_until(ws, "reply.end")
    await ws.send_json_to(
        {"type": "message.send", "client_id": str(uuid.uuid4()), "text": "again"}
    )
    frame = await ws.receive_json_from(5)
    assert frame["code"] == "rate_limited" and "发送得太频繁" in frame["message"]
