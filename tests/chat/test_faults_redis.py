"""Redis restarted (empty) under a running reply shared by two Daphne processes: the
reply finishes and is saved whole, both sockets end with it, and the relay between
the processes works again for the next message.

Redis is a private server (tests/private_servers.py), never the machine's shared one."""

from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp
import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from tests.chat.conftest import send_frame
from tests.chat.test_two_processes import open_socket, rebuild, receive_until
from tests.private_servers import private_redis  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


async def test_redis_restarted_mid_reply_loses_nothing_and_the_relay_comes_back(
    private_redis,  # noqa: F811
    daphne_processes,
    user,
    make_conversation,
    session_cookie,
):
    env = {
        "REDIS_URL": private_redis.url,
        "GLMWEB_REPLY_CHECKPOINT_SECONDS": "0.3",
    }
    a = daphne_processes(**env)
    b = daphne_processes(**env)
    conversation = await sync_to_async(make_conversation)(user)
    async with aiohttp.ClientSession() as http:
        sender, _ = await open_socket(http, a.port, conversation.pk, session_cookie)
        viewer, _ = await open_socket(http, b.port, conversation.pk, session_cookie)
        text = "Through a Redis restart [[sim:tokens=120,rate=40]]"
        await sender.send_json(send_frame(text))
        created, sent_frames = await receive_until(sender, "message.created")
        reply_id = created["assistant"]["id"]
        await receive_until(viewer, "reply.delta")

        private_redis.restart()

        end, seen = await receive_until(sender, "reply.end", wait=20)
        sent_frames += seen
        assert end["message"]["id"] == reply_id
        assert end["message"]["status"] == "complete", end["message"]["error"]
        whole = end["message"]["content"]
        assert rebuild(sent_frames) == whole
        saved = await Message.objects.aget(pk=reply_id)
        assert (saved.status, saved.content) == ("complete", whole)
        assert await Message.objects.filter(
            conversation=conversation, role="user", content=text
        ).aexists()

        # The viewer on the other process: frames published while Redis was down
        # are gone, but the reply's end (the whole saved text) reaches it, or a
        # reload shows it.
        try:
            viewer_end, _ = await receive_until(viewer, "reply.end", wait=10)
            shown = viewer_end["message"]
        except TimeoutError:
            reloaded, history = await open_socket(
                http, b.port, conversation.pk, session_cookie
            )
            shown = history["messages"][-1]
            await reloaded.close()
        assert (shown["id"], shown["status"], shown["content"]) == (
            reply_id,
            "complete",
            whole,
        )

        # The relay is back: a message sent on B streams to A's socket.
        await viewer.send_json(send_frame("After the restart"))
        b_end, _ = await receive_until(viewer, "reply.end", wait=20)
        a_end, a_frames = await receive_until(sender, "reply.end", wait=20)
        assert b_end["message"]["status"] == "complete"
        assert a_end["message"] == b_end["message"]
        assert any(f["type"] == "reply.delta" for f in a_frames)
        await sender.close()
        await viewer.close()


@pytest.fixture
async def redis_hub(private_redis, settings, transactional_db):  # noqa: F811
    """This process's hub on the private Redis (checkpoints every 0.2 s), shut down
    at teardown as the reply_engine fixture does."""
    from chat import replies
    from chat.replies import engine

    settings.REDIS_URL = private_redis.url
    settings.GLMWEB_REPLY_CHECKPOINT_SECONDS = 0.2
    await replies.astart()
    yield await engine.ahub()
    await replies.ashutdown(grace=10)
    from django.db import connections

    await sync_to_async(connections.close_all)()


async def test_a_redis_restart_does_not_end_a_live_processes_reply(
    redis_hub,
    private_redis,  # noqa: F811
    user,
    make_conversation,
    settings,
):
    from datetime import timedelta

    from django.utils import timezone

    from chat import turns
    from chat.replies import checkpoints, recovery

    conversation = await sync_to_async(make_conversation)(user)
    turn = await sync_to_async(turns.send_message)(
        str(conversation.pk), user.pk, uuid.uuid4(), "Long question"
    )
    reply = turn.assistant
    # A long reply running on another, live process: past the stale age, with its
    # heartbeat and checkpoint in Redis.
    settings.GLMWEB_REPLY_STALE_SECONDS = 1
    await Message.objects.filter(pk=reply.pk).aupdate(
        created_at=timezone.now() - timedelta(minutes=2)
    )
    owner = checkpoints.open_store("other-host:1:live")
    saved = {
        "owner": "other-host:1:live",
        "conversation_id": str(conversation.pk),
        "message_id": reply.pk,
        "seq": 9,
        "content": "The first half of a long answer",
        "reasoning": "",
        "web_search": [],
        "saved_at": time.time(),
    }
    await owner.write([saved])
    assert await recovery.asweep(redis_hub) == []

    private_redis.restart()  # empty: the heartbeat and the checkpoint are gone
    assert await sweep_once_reconnected(redis_hub) == []  # the owner has not written
    assert (await Message.objects.aget(pk=reply.pk)).status == "streaming"

    # Once the owner stops writing for good (it died), the reply is recovered.
    owner.forget()
    remembered = 3 * settings.GLMWEB_REPLY_CHECKPOINT_SECONDS
    for _ in range(100):  # the store's memory (set again by this hub) ages
        if await redis_hub.memory_age() >= remembered:
            break
        await asyncio.sleep(0.1)
    recovered = await sweep_once_reconnected(redis_hub)
    assert [m.pk for m in recovered] == [reply.pk]


async def sweep_once_reconnected(hub):
    """Run the recovery sweep; the first command on a pooled connection that the
    restart cut fails once (the maintenance loop retries it the same way)."""
    import redis

    from chat.replies import recovery

    for _ in range(5):
        try:
            return await recovery.asweep(hub)
        except redis.ConnectionError:
            await asyncio.sleep(0.1)
    return await recovery.asweep(hub)
