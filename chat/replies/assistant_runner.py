"""Run one reply of an agent conversation (glm-4-assistant, chat.assistants).

The same life as chat.replies.runner's chat reply (LiveReply, the hub's frames,
checkpoints, stop, one write at the end), with the assistant endpoint's own stream:
the platform keeps the agent's memory under its conversation_id, so only the user's
latest text is sent, and that id is stored after the first reply. Tool calls and
their outputs go out as reply.tools frames and are saved on the Message.
"""

from __future__ import annotations

import contextlib
import logging

from chat import assistants, dbpool, turns
from chat.models import Conversation, Message
from chat.replies import endings, protocol
from chat.replies.hub import Hub
from chat.replies.live import LiveReply
from chat.replies.runner import finish
from glmweb import zhipu

logger = logging.getLogger(__name__)


def _keep_conversation_id(conversation_id: str, platform_id: str) -> None:
    Conversation.objects.filter(pk=conversation_id).update(
        assistant_conversation_id=platform_id[:128]
    )


_akeep_conversation_id = dbpool.in_writer(_keep_conversation_id)


async def arun(hub: Hub, live: LiveReply, turn: turns.Turn) -> None:
    """Stream the agent's reply, then save and announce how it ended (always)."""
    assert turn.assistant is not None and turn.reply_to_id is not None
    conversation = turn.conversation
    ending = endings.Ending()
    platform_id = conversation.assistant_conversation_id
    async with ending.guard(live, "agent reply"):
        await hub.follow(live)
        asked = await turns.aget_message(turn.reply_to_id)
        if asked is None:  # deleted meanwhile: nothing to ask
            raise Message.DoesNotExist(turn.reply_to_id)
        question = asked.content
        options = {"conversation_id": platform_id} if platform_id else {}
        stream = zhipu.astream_assistant(
            conversation.assistant_id,
            [{"role": "user", "content": [{"type": "text", "text": question}]}],
            **options,  # type: ignore[arg-type]
        )
        async with contextlib.aclosing(stream) as deltas:
            async for delta in deltas:
                if delta.conversation_id:
                    platform_id = delta.conversation_id
                if delta.content:
                    live.pending_content.append(delta.content)
                    await hub.text_arrived(live)
                if delta.tool_calls:
                    await hub.flush(live)  # the text before the call goes first
                    live.tool_calls += [
                        assistants.tool_call_dict(c) for c in delta.tool_calls
                    ]
                    await hub.deliver(
                        live.conversation_id,
                        protocol.reply_tools(live.message_id, live.tool_calls),
                    )
                ending.note(delta)
    live.finishing = True
    try:
        await hub.flush(live)
    except Exception:
        logger.exception("sending the last frame of reply %s failed", live.message_id)
    if platform_id and platform_id != conversation.assistant_conversation_id:
        try:
            await _akeep_conversation_id(live.conversation_id, platform_id)
            conversation.assistant_conversation_id = platform_id
        except Exception:
            logger.exception("keeping agent conversation %s failed", platform_id)
    content, _reasoning = live.full_text()
    usage = ending.usage
    outcome = turns.ReplyOutcome(
        status=ending.settle(bool(content)),
        content=content,
        tool_calls=live.tool_calls,
        **ending.error_fields(),
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        finish_reason=ending.finish_reason,
    )
    await finish(hub, live, turn.assistant, outcome)
