"""Run one reply: prepare the context, stream it from GLM, save how it ended.

The reply is an asyncio task of the process that accepted the turn, not of the
socket: closing the tab does not stop it. Per token it only appends text to the
LiveReply; the hub's tick sends frames, the maintenance loop writes checkpoints, and
the database is written once at the end (chat.turns.finish_reply).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import Any

from django import db

from chat import catalog, history, titles, turns
from chat.characters import prompting
from chat.models import Conversation, Message
from chat.replies import endings, protocol
from chat.replies.hub import Hub
from chat.replies.live import LiveReply
from glmweb import zhipu

logger = logging.getLogger(__name__)

# What a reply.continue asks the model, after the answer so far (sent back as the
# assistant's turn): the platform has no "go on" switch, so it is asked in words.
CONTINUE_PROMPT = (
    "Continue your previous answer exactly where it stopped, without repeating "
    "anything already written and without any preamble."
)


def chat_options(conversation: Conversation) -> dict[str, Any]:
    """Return the astream_chat options a conversation's settings ask for."""
    options: dict[str, Any] = {}
    if conversation.temperature is not None:
        options["temperature"] = conversation.temperature
    if conversation.top_p is not None:
        options["top_p"] = conversation.top_p
    model = catalog.describe(conversation.model)
    if conversation.max_tokens is not None:
        options["max_tokens"] = min(conversation.max_tokens, model.max_output)
    if conversation.web_search and model.supports("web_search"):
        options["web_search"] = True
    if model.supports("thinking"):
        # Thinking models think unless told not to: send "disabled" explicitly.
        options["thinking"] = bool(conversation.thinking)
    # CharGLM/Emohaa take the character as `meta`; other models get it compiled
    # into the system prompt instead (chat.history).
    character_meta = prompting.meta(conversation)
    if character_meta is not None:
        options["meta"] = character_meta
    return options


def _context(prepared: history.PreparedContext, turn: turns.Turn) -> list[Any]:
    """Return the messages to send: the prepared context and, for a continuation,
    the answer so far and the request to go on."""
    messages: list[Any] = list(prepared.messages)
    if turn.continued:
        assert turn.assistant is not None
        messages += [
            {"role": "assistant", "content": turn.assistant.content},
            {"role": "user", "content": CONTINUE_PROMPT},
        ]
    return messages


def _add(before: int | None, now: int | None) -> int | None:
    """Return a continued reply's token count: what it had plus the continuation's."""
    if before is None or now is None:
        return now
    return before + now


def start_live(live: LiveReply, turn: turns.Turn) -> None:
    """Give a continued reply's LiveReply the answer so far, so snapshots, checkpoints
    and the saved text hold the whole answer (deltas carry only the new text)."""
    if turn.continued and turn.assistant is not None:
        if turn.assistant.content:
            live.content.append(turn.assistant.content)
        if turn.assistant.reasoning:
            live.reasoning.append(turn.assistant.reasoning)
        live.web_search = list(turn.assistant.web_search or [])


async def arun(hub: Hub, live: LiveReply, turn: turns.Turn) -> None:
    """Stream the reply, then save and announce how it ended (always, even on a bug)."""
    assert turn.assistant is not None
    conversation = turn.conversation
    ending = endings.Ending()
    seen_attachments: list[int] = []
    async with ending.guard(live, "reply"):
        # No checkpoint yet: the maintenance loop writes one within
        # GLMWEB_REPLY_CHECKPOINT_SECONDS, and recovery leaves a reply without one
        # alone until it is GLMWEB_REPLY_STALE_SECONDS old.
        await hub.follow(live)
        prepared = await history.aprepare_context(
            live.conversation_id,
            until_message_id=_until(turn),
            conversation=conversation,
            known=turn.history,
        )
        seen_attachments = prepared.attachment_ids
        if prepared.summary is not None:
            await hub.deliver(
                live.conversation_id, protocol.summary_created(prepared.summary)
            )
        stream = zhipu.astream_chat(
            _context(prepared, turn),
            model=conversation.model,
            **chat_options(conversation),
        )
        async with contextlib.aclosing(stream) as deltas:
            # Once per upstream chunk (thousands a second under load): list appends,
            # and an await only for the reply's first text (Hub.queue_text).
            pending_content = live.pending_content
            pending_reasoning = live.pending_reasoning
            async for delta in deltas:
                text = delta.content
                thought = delta.reasoning
                if text or thought:
                    if text:
                        pending_content.append(text)
                    if thought:
                        pending_reasoning.append(thought)
                    if hub.queue_text(live):
                        await hub.flush(live)
                if delta.web_search:
                    live.web_search = [dataclasses.asdict(r) for r in delta.web_search]
                    await hub.deliver(
                        live.conversation_id,
                        protocol.reply_search(live.message_id, live.web_search),
                    )
                ending.note(delta)
    live.finishing = True  # a stop from now on must not cancel the saving
    try:
        await hub.flush(live)
    except Exception:
        logger.exception("sending the last frame of reply %s failed", live.message_id)
    content, reasoning = live.full_text()
    usage = ending.usage
    outcome = turns.ReplyOutcome(
        status=ending.settle(bool(content or reasoning)),
        content=content,
        reasoning=reasoning,
        web_search=live.web_search,
        **ending.error_fields(),
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=_add(
            turn.assistant.completion_tokens if turn.continued else None,
            usage.completion_tokens if usage else None,
        ),
        reasoning_tokens=_add(
            turn.assistant.reasoning_tokens if turn.continued else None,
            usage.reasoning_tokens if usage and usage.reasoning_tokens else None,
        ),
        finish_reason=ending.finish_reason,
        seen_attachments=seen_attachments,
    )
    await finish(hub, live, turn.assistant, outcome)


# Waits before saving a finished reply again when the database connection failed: a
# PostgreSQL restart or failover takes seconds, and the reply's whole text is only in
# this process until it is saved (tests/chat/test_faults_postgres.py).
SAVE_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)


async def _asave_with_retries(
    message: Message, outcome: turns.ReplyOutcome
) -> Message | None:
    for delay in SAVE_RETRY_DELAYS:
        try:
            return await turns.afinish_reply(message, outcome)
        except (db.OperationalError, db.InterfaceError):
            logger.warning("saving reply %s failed; again in %s s", message.pk, delay)
            await asyncio.sleep(delay)
    return await turns.afinish_reply(message, outcome)


def _until(turn: turns.Turn) -> int:
    assert turn.reply_to_id is not None
    return turn.reply_to_id


async def finish(
    hub: Hub, live: LiveReply, message: Message, outcome: turns.ReplyOutcome
) -> None:
    """Save how a reply ended and announce it (chat and agent replies alike)."""
    try:
        saved = await _asave_with_retries(message, outcome)
    except Exception:
        # The database stayed away: the checkpoint stays, and the sweep marks the
        # reply interrupted once this process is gone.
        logger.exception("saving reply %s failed", live.message_id)
        hub.unregister(live)
        await hub.unfollow(live)
        return
    hub.unregister(live)
    if saved is None:  # someone else finished it (recovery): show what they saved
        saved = await turns.aget_message(message.pk)
    if saved is not None:
        await hub.deliver(live.conversation_id, protocol.reply_end(saved))
    await hub.unfollow(live)
    with contextlib.suppress(Exception):
        await hub.drop_checkpoint(live.message_id)
    if outcome.status == Message.Status.COMPLETE:
        await _title(hub, live.conversation_id)


async def _title(hub: Hub, conversation_id: str) -> None:
    try:
        conversation = await titles.amaybe_title(conversation_id)
    except Exception:
        logger.exception("titling conversation %s failed", conversation_id)
        return
    if conversation is not None:
        await hub.deliver(conversation_id, protocol.conversation_updated(conversation))
