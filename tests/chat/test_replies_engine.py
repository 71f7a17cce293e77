"""The reply engine's public face: the chat app's shutdown hook (what glmweb.serve
calls on SIGTERM) saves running replies with all their text, and sockets closing
afterwards start no new engine."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps

from chat.models import Message
from chat.replies import engine
from tests.chat.conftest import receive_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True)


async def test_app_shutdown_saves_the_running_reply_and_starts_nothing_after(
    glm_settings, ws_connect, user, make_conversation
):
    glm_settings.GLMWEB_REPLY_CHECKPOINT_SECONDS = 600  # only the shutdown saves
    conversation = await sync_to_async(make_conversation)(user)
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Go on [[sim:tokens=300,rate=50]]"))
    created, _ = await receive_until(ws, "message.created")
    await receive_until(ws, "reply.delta")

    await apps.get_app_config("chat").ashutdown()

    end, seen = await receive_until(ws, "reply.end")
    streamed = "".join(f["content"] for f in seen if f["type"] == "reply.delta")
    saved = await Message.objects.aget(pk=created["assistant"]["id"])
    assert (saved.status, saved.error_code) == ("interrupted", "server_restarted")
    assert saved.content and saved.content.endswith(streamed[-10:])
    assert end["message"]["content"] == saved.content
    assert engine.running_hub() is None
    await ws.disconnect()  # a socket closed by the exiting server
    assert engine.running_hub() is None
