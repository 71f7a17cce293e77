"""The chat websocket against the running simulator: send, stream, stop, resume,
idempotent resend, two tabs, regenerate and edit."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from tests.chat.conftest import receive_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True)


async def read_reply(communicator, wait=15.0):
    """Return (reply.end frame, the text of the reply.delta frames before it)."""
    end, seen = await receive_until(communicator, "reply.end", wait)
    deltas = [f for f in seen if f["type"] == "reply.delta"]
    seqs = [f["seq"] for f in deltas]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    return end, "".join(f["content"] for f in deltas)


@pytest.fixture
def conversation(user, make_conversation):
    return make_conversation(user)


async def test_send_streams_the_reply_and_saves_both_messages(
    glm_settings, ws_connect, user, conversation
):
    glm_settings.GLMWEB_AUTO_TITLE = "text"
    ws = await ws_connect(user, conversation.pk)
    history = await ws.receive_json_from()
    assert history["type"] == "conversation.history"
    assert history["messages"] == [] and history["streaming"] is None
    assert history["conversation"]["id"] == str(conversation.pk)

    client_id = uuid.uuid4()
    await ws.send_json_to(send_frame("Hello there", client_id))
    created = await ws.receive_json_from()
    assert created["type"] == "message.created"
    assert created["client_id"] == str(client_id)
    assert created["user"]["content"] == "Hello there"
    assert created["assistant"]["status"] == "streaming"
    assert created["superseded"] == []

    end, streamed = await read_reply(ws)
    message = end["message"]
    assert message["id"] == created["assistant"]["id"]
    assert message["status"] == "complete"
    assert message["error"] is None
    assert message["content"] == streamed
    assert 'Here is a sample answer to "Hello there"' in streamed
    assert message["usage"]["completion_tokens"] > 0

    saved = await sync_to_async(list)(
        Message.objects.filter(conversation=conversation).order_by("id")
    )
    assert [(m.role, m.status) for m in saved] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert saved[0].client_id == client_id
    assert saved[1].content == streamed
    updated, _ = await receive_until(ws, "conversation.updated")
    assert updated["conversation"]["title"] == "Hello there"


async def test_send_options_are_saved_and_used_for_the_reply(
    glm_settings, ws_connect, user, conversation, chat_requests
):
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    options = {
        "model": "glm-4.5-flash",
        "system_prompt": "Be brief.",
        "temperature": 0.3,
        "top_p": 0.9,
        "max_tokens": 200,
        "thinking": False,
        "web_search": False,
    }
    await ws.send_json_to(send_frame("Options please", options=options))
    updated, _ = await receive_until(ws, "conversation.updated")
    assert updated["conversation"]["model"] == "glm-4.5-flash"
    end, _ = await read_reply(ws)
    assert end["message"]["status"] == "complete"
    assert end["message"]["reasoning"] == ""
    body = chat_requests()[0]
    assert body["model"] == "glm-4.5-flash"
    assert body["temperature"] == 0.3 and body["top_p"] == 0.9
    assert body["max_tokens"] == 200
    assert body["thinking"] == {"type": "disabled"}
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}


async def test_thinking_reply_streams_reasoning_first(
    glm_settings, ws_connect, user, make_conversation
):
    conversation = await sync_to_async(make_conversation)(
        user, model="glm-4.5-flash", thinking=True
    )
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Think about it"))
    end, seen = await receive_until(ws, "reply.end")
    deltas = [f for f in seen if f["type"] == "reply.delta"]
    assert deltas[0]["reasoning"] and not deltas[0]["content"]
    assert end["message"]["reasoning"] == "".join(f["reasoning"] for f in deltas)
    assert end["message"]["content"]


async def test_stop_keeps_the_text_so_far(glm_settings, ws_connect, user, conversation):
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Slow one [[sim:tokens=400,rate=40]]"))
    created, _ = await receive_until(ws, "message.created")
    await receive_until(ws, "reply.delta")
    await asyncio.sleep(0.3)
    await ws.send_json_to({"type": "reply.stop"})
    end, seen = await receive_until(ws, "reply.end", wait=5)
    streamed = "".join(f["content"] for f in seen if f["type"] == "reply.delta")
    message = end["message"]
    assert message["status"] == "stopped"
    assert message["error"] is None
    assert 0 < len(message["content"]) < len("Here is a sample answer") * 400
    saved = await Message.objects.aget(pk=created["assistant"]["id"])
    assert saved.status == "stopped" and saved.content == message["content"]
    assert message["content"].endswith(streamed[-10:])
    # Stopping a reply that already ended does nothing.
    await ws.send_json_to({"type": "reply.stop"})
    assert await ws.receive_nothing(0.2)


async def test_closing_the_socket_does_not_stop_the_reply_and_a_new_socket_resumes(
    glm_settings, ws_connect, user, conversation
):
    first = await ws_connect(user, conversation.pk)
    await first.receive_json_from()
    await first.send_json_to(send_frame("Keep going [[sim:tokens=60,rate=40]]"))
    created, _ = await receive_until(first, "message.created")
    await receive_until(first, "reply.delta")
    await first.disconnect()
    await asyncio.sleep(0.3)

    second = await ws_connect(user, conversation.pk)
    history = await second.receive_json_from()
    assert history["type"] == "conversation.history"
    snapshot = history["streaming"]
    assert snapshot["message_id"] == created["assistant"]["id"]
    assert snapshot["seq"] >= 1 and snapshot["content"]
    assert [m["status"] for m in history["messages"]] == ["complete", "streaming"]
    end, seen = await receive_until(second, "reply.end")
    # As docs/websocket.md tells a client: frames the snapshot already has (sent
    # while the history was being read) are ignored, the rest follow on with no gap.
    later = [
        f for f in seen if f["type"] == "reply.delta" and f["seq"] > snapshot["seq"]
    ]
    assert [f["seq"] for f in later] == list(
        range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(later))
    )
    resumed = snapshot["content"] + "".join(f["content"] for f in later)
    assert end["message"]["status"] == "complete"
    assert resumed == end["message"]["content"]
    assert end["message"]["usage"]["completion_tokens"] == 60


async def test_resending_a_client_id_starts_nothing(
    glm_settings, ws_connect, user, conversation, chat_requests
):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    frame = send_frame("Only once")
    await ws.send_json_to(frame)
    created, _ = await receive_until(ws, "message.created")
    await read_reply(ws)

    await ws.send_json_to(frame)  # e.g. resent after a reconnect
    again = await ws.receive_json_from()
    assert again["type"] == "message.created"
    assert again["user"]["id"] == created["user"]["id"]
    assert again["assistant"]["id"] == created["assistant"]["id"]
    assert again["assistant"]["status"] == "complete"
    assert await ws.receive_nothing(0.3)
    assert await Message.objects.filter(conversation=conversation).acount() == 2
    assert len(chat_requests()) == 1


async def test_resend_while_streaming_answers_with_a_snapshot(
    glm_settings, ws_connect, user, conversation
):
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    frame = send_frame("Resend me [[sim:tokens=40,rate=40]]")
    await ws.send_json_to(frame)
    created, _ = await receive_until(ws, "message.created")
    await receive_until(ws, "reply.delta")
    await ws.send_json_to(frame)
    again, _ = await receive_until(ws, "message.created")
    assert again["assistant"]["id"] == created["assistant"]["id"]
    snapshot, _ = await receive_until(ws, "reply.snapshot")
    assert snapshot["message_id"] == created["assistant"]["id"]
    end, _ = await read_reply(ws)
    assert end["message"]["status"] == "complete"


async def test_two_tabs_both_stream_the_same_reply(
    glm_settings, ws_connect, user, conversation
):
    tab1 = await ws_connect(user, conversation.pk)
    tab2 = await ws_connect(user, conversation.pk, language="zh-CN")
    await tab1.receive_json_from()
    await tab2.receive_json_from()
    await tab2.send_json_to(send_frame("From tab two [[sim:tokens=30]]"))
    end1, text1 = await read_reply(tab1)
    end2, text2 = await read_reply(tab2)
    assert end1["message"]["id"] == end2["message"]["id"]
    assert text1 == text2 == end1["message"]["content"]


async def test_a_second_send_while_streaming_is_refused_busy(
    glm_settings, ws_connect, user, conversation
):
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("First [[sim:tokens=30,rate=40]]"))
    await receive_until(ws, "message.created")
    second = send_frame("Second")
    await ws.send_json_to(second)
    refused, _ = await receive_until(ws, "error")
    assert refused["code"] == "busy"
    assert refused["client_id"] == second["client_id"]
    assert refused["message"].startswith("A reply is still being written")
    await read_reply(ws)
    assert not await Message.objects.filter(content="Second").aexists()


async def test_regenerate_supersedes_the_last_reply(
    glm_settings, ws_connect, user, conversation
):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Again please"))
    first, _ = await read_reply(ws)
    client_id = str(uuid.uuid4())
    await ws.send_json_to({"type": "reply.regenerate", "client_id": client_id})
    created, _ = await receive_until(ws, "message.created")
    assert created["user"] is None
    assert created["superseded"] == [first["message"]["id"]]
    assert created["assistant"]["client_id"] == client_id
    end, _ = await read_reply(ws)
    assert end["message"]["content"] == first["message"]["content"]
    old = await Message.objects.aget(pk=first["message"]["id"])
    assert old.superseded and old.content  # hidden, not deleted

    reopened = await ws_connect(user, conversation.pk)
    history = await reopened.receive_json_from()
    assert [m["id"] for m in history["messages"]][-1] == end["message"]["id"]
    assert first["message"]["id"] not in [m["id"] for m in history["messages"]]


async def test_edit_supersedes_the_message_and_everything_after_it(
    glm_settings, ws_connect, user, conversation
):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("First question"))
    first_created, _ = await receive_until(ws, "message.created")
    first_end, _ = await read_reply(ws)
    await ws.send_json_to(send_frame("Second question"))
    await read_reply(ws)

    await ws.send_json_to(
        {
            "type": "message.edit",
            "message_id": first_created["user"]["id"],
            "client_id": str(uuid.uuid4()),
            "text": "Edited question",
        }
    )
    created, _ = await receive_until(ws, "message.created")
    assert created["user"]["content"] == "Edited question"
    assert len(created["superseded"]) == 4
    assert first_created["user"]["id"] in created["superseded"]
    end, streamed = await read_reply(ws)
    assert "Edited question" in streamed
    visible = await sync_to_async(list)(
        Message.objects.filter(conversation=conversation, superseded=False)
        .order_by("id")
        .values_list("content", flat=True)
    )
    assert visible == ["Edited question", end["message"]["content"]]
    assert await Message.objects.filter(conversation=conversation).acount() == 6
