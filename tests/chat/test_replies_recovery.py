"""Replies left streaming by a dead process are marked interrupted with their last
checkpoint; a live process's replies are left alone."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat import replies, turns
from chat.models import Message
from chat.replies import checkpoints, engine, recovery

pytestmark = pytest.mark.django_db(transaction=True)

DEAD = "gone-host:999999:dead"


@pytest.fixture
async def hub(reply_engine):
    """This process's hub, for calling recovery directly."""
    return await engine.ahub()


async def leave_checkpoint(process_id, *saved, alive=False):
    """Write checkpoints as another process would; unless alive, it then dies."""
    store = checkpoints.open_store(process_id)
    await store.write(list(saved))
    if not alive:
        store.forget()
    return store


@pytest.fixture
def streaming_reply(user, make_conversation):
    """Return a (conversation, assistant message) left streaming."""

    def make():
        conversation = make_conversation(user)
        turn = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Hi")
        return conversation, turn.assistant

    return sync_to_async(make)


def checkpoint(message, owner, content="Half of the ans"):
    return {
        "owner": owner,
        "conversation_id": str(message.conversation_id),
        "message_id": message.pk,
        "seq": 3,
        "content": content,
        "reasoning": "",
        "web_search": [],
        "saved_at": time.time(),
    }


async def test_sweep_marks_a_dead_owners_reply_interrupted_with_its_checkpoint(
    hub, streaming_reply
):
    _, message = await streaming_reply()
    await leave_checkpoint(DEAD, checkpoint(message, DEAD))
    recovered = await recovery.asweep(hub)
    assert [m.pk for m in recovered] == [message.pk]
    saved = await Message.objects.aget(pk=message.pk)
    assert saved.status == Message.Status.INTERRUPTED
    assert saved.content == "Half of the ans"
    assert saved.error_code == "server_restarted"
    assert await hub.load_checkpoint(message.pk) is None


async def test_sweep_leaves_a_live_processes_reply_alone(hub, streaming_reply):
    _, message = await streaming_reply()
    other = "other-host:1:live"
    store = await leave_checkpoint(other, checkpoint(message, other), alive=True)
    try:
        assert await recovery.asweep(hub) == []
        saved = await Message.objects.aget(pk=message.pk)
        assert saved.status == Message.Status.STREAMING
    finally:
        await store.write([])
        store.forget()
        await store.delete(message.pk)
        await sync_to_async(turns.interrupt_orphan)(message.pk, "", "", [])


async def test_reply_without_checkpoint_is_recovered_only_once_stale(
    hub, streaming_reply, settings
):
    settings.GLMWEB_REPLY_STALE_SECONDS = 30
    # With REDIS_URL, a store that has only just begun remembering proves nothing by a
    # missing checkpoint (tests/chat/test_faults_redis.py); this one began long ago.
    store = checkpoints.open_store("another-process")
    if isinstance(store, checkpoints.RedisStore):
        await store.redis.set(checkpoints.MEMORY_SINCE_KEY, str(time.time() - 3600))
    await store.aclose()
    _, message = await streaming_reply()
    assert await recovery.asweep(hub) == []  # just started somewhere
    await Message.objects.filter(pk=message.pk).aupdate(
        created_at=timezone.now() - timedelta(seconds=31)
    )
    recovered = await recovery.asweep(hub)
    assert [m.pk for m in recovered] == [message.pk]
    assert recovered[0].content == ""


async def test_opening_a_conversation_recovers_its_orphan_and_says_so(
    ws_connect, user, streaming_reply
):
    conversation, message = await streaming_reply()
    await leave_checkpoint(DEAD, checkpoint(message, DEAD, "Kept text"))
    ws = await ws_connect(user, conversation.pk, language="en")
    history = await ws.receive_json_from()
    assert history["type"] == "conversation.history"
    end = await ws.receive_json_from()
    assert end["type"] == "reply.end"
    assert end["message"]["id"] == message.pk
    assert end["message"]["status"] == "interrupted"
    assert end["message"]["content"] == "Kept text"
    assert end["message"]["error"] == {
        "code": "server_restarted",
        "message": "The server restarted during this reply; the part written before "
        "that has been kept.",
        "detail": "",
        "retryable": True,
    }


async def test_sending_to_a_conversation_with_an_orphan_recovers_it_first(
    glm_settings, reply_engine, user, streaming_reply
):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    conversation, message = await streaming_reply()
    await leave_checkpoint(DEAD, checkpoint(message, DEAD, "Old"))
    turn = await replies.asend(str(conversation.pk), user.pk, uuid.uuid4(), "New")
    assert turn.created
    orphan = await Message.objects.aget(pk=message.pk)
    assert (orphan.status, orphan.content) == ("interrupted", "Old")
    for _ in range(100):
        reply = await Message.objects.aget(pk=turn.assistant.pk)
        if reply.status != "streaming":
            break
        await asyncio.sleep(0.1)
    assert reply.status == "complete"
