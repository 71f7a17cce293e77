"""Recovery of replies left `streaming` by a process that died.

Such a reply is marked `interrupted` with the text of its last checkpoint and the
error code `server_restarted`. A reply is an orphan only when its owner (named in its
checkpoint) has no fresh heartbeat: with several processes sharing the database, one
process starting up must not end another's live reply. A reply with no checkpoint at
all counts as an orphan once it is older than GLMWEB_REPLY_STALE_SECONDS (its owner
writes one before calling the model, so only a crash in between leaves none), and
only once the store has remembered for a few checkpoint intervals (a Redis restarted
empty forgets the checkpoints of replies still running elsewhere).

Runs when a process's hub starts, every GLMWEB_REPLY_STALE_SECONDS after, and when a
socket opens on (or sends to) a conversation whose streaming reply no process here owns.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from chat import turns
from chat.models import Message
from chat.replies import protocol
from chat.replies.hub import Hub

logger = logging.getLogger(__name__)


async def arecover_if_orphaned(
    hub: Hub, message_id: int, created_at: datetime | None = None
) -> Message | None:
    """Mark the reply interrupted if its owner is dead; return it if so, else None."""
    if hub.owns(message_id):
        return None
    checkpoint = await hub.load_checkpoint(message_id)
    if checkpoint is not None:
        if await hub.is_alive(checkpoint.get("owner", "")):
            return None
    else:
        if created_at is None:
            message = await turns.aget_message(message_id)
            if message is None or message.status != Message.Status.STREAMING:
                return None
            created_at = message.created_at
        age = (timezone.now() - created_at).total_seconds()
        if age < settings.GLMWEB_REPLY_STALE_SECONDS:
            return None
        # A Redis restarted empty has lost the checkpoints of replies still running
        # on live processes until their next write (every checkpoint interval, a
        # failed one retried): no checkpoint proves nothing until a few intervals
        # have passed (tests/chat/test_faults_redis.py).
        if await hub.memory_age() < 3 * settings.GLMWEB_REPLY_CHECKPOINT_SECONDS:
            return None
        checkpoint = {}
    message = await turns.ainterrupt_orphan(
        message_id,
        checkpoint.get("content", ""),
        checkpoint.get("reasoning", ""),
        checkpoint.get("web_search", []),
    )
    if message is None:
        return None
    logger.warning(
        "reply %s was left streaming by a dead process (%s); marked interrupted",
        message_id,
        checkpoint.get("owner", "unknown"),
    )
    await hub.drop_checkpoint(message_id)
    await hub.deliver(str(message.conversation_id), protocol.reply_end(message))
    return message


async def asweep(hub: Hub, conversation_id: str | None = None) -> list[Message]:
    """Recover every orphaned reply (of one conversation, if given)."""
    recovered = []
    for message_id, conv_id, created_at in await turns.astreaming_messages():
        if conversation_id is not None and conv_id != conversation_id:
            continue
        message = await arecover_if_orphaned(hub, message_id, created_at)
        if message is not None:
            recovered.append(message)
    return recovered
