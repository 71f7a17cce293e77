"""What a socket asks of the reply engine: open, send, regenerate, edit, stop.

Each function saves through chat.turns, then tells every socket of the conversation
(here directly, elsewhere through the relay) and starts the reply as a task of this
process. The consumer stays a thin edge: it validates frames and calls these.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from django.conf import settings

from chat import turns, versions
from chat.models import Message
from chat.replies import assistant_runner, engine, protocol, recovery, runner
from chat.replies.hub import Hub, Viewer


async def aopen(
    conversation_id: str, owner_id: int, viewer: Viewer
) -> tuple[str, list[int]] | None:
    """Attach a socket and return its conversation.history frame (encoded), or None
    when the
    conversation is not this owner's (the socket is then detached again).

    Also returns the ids of streaming replies no process here owns; pass them to
    afollow_foreign() once the history is sent. The socket is attached before the
    history is read, so nothing that happens meanwhile is missed (the consumer holds
    pushes back until the history is out, and `seq` drops what the snapshot has).
    """
    hub = await engine.ahub()
    await hub.attach(conversation_id, viewer)
    loaded = await turns.aload_history(conversation_id, owner_id)
    if loaded is None:
        await hub.detach(conversation_id, viewer)
        return None
    conversation, page, summaries = loaded
    live = hub.replies.get(conversation_id)
    streaming = None
    foreign = []
    # Only the latest answer streams, and the newest page holds it.
    for message in page.messages:
        if message.status != Message.Status.STREAMING:
            continue
        if live is not None and live.message_id == message.pk:
            streaming = live.snapshot()
        else:
            foreign.append(message.pk)
    frame = protocol.conversation_history(
        conversation, page, summaries, streaming, viewer.language
    )
    return frame, foreign


async def aclose(conversation_id: str, viewer: Viewer) -> None:
    """Detach a socket (its replies go on)."""
    # No hub is started for this: after a shutdown, closing sockets find none.
    hub = engine.running_hub()
    if hub is not None:
        await hub.detach(conversation_id, viewer)


async def afollow_foreign(
    conversation_id: str, message_ids: list[int], viewer: Viewer
) -> None:
    """Bring a socket up to date on replies streaming in no process here.

    A dead owner's reply is recovered (reply.end goes to every socket). Otherwise the
    socket gets the last checkpoint as a reply.snapshot at once and, with Redis, the
    owner is asked for an exact snapshot, after which its frames are relayed here.
    If nothing answers within GLMWEB_REPLY_SNAPSHOT_TIMEOUT, the reply is looked up
    again: ended (reply.end to this socket) or orphaned (recovered).
    """
    hub = await engine.ahub()
    for message_id in message_ids:
        if await recovery.arecover_if_orphaned(hub, message_id) is not None:
            continue
        checkpoint = await hub.load_checkpoint(message_id)
        if checkpoint is not None:
            await viewer.push(protocol.reply_snapshot(checkpoint))
        hub.ask_snapshot(conversation_id)
        hub.spawn(_recheck_later(hub, message_id, viewer))


async def _recheck_later(hub: Hub, message_id: int, viewer: Viewer) -> None:
    await asyncio.sleep(settings.GLMWEB_REPLY_SNAPSHOT_TIMEOUT)
    if hub.owns(message_id):
        return
    message = await turns.aget_message(message_id)
    if message is None:
        return
    if message.status != Message.Status.STREAMING:
        await viewer.push(protocol.pick(protocol.reply_end(message), viewer.language))
        return
    await recovery.arecover_if_orphaned(hub, message_id)


async def _start_turn(
    save: Callable[[], Awaitable[turns.Turn]], conversation_id: str
) -> turns.Turn:
    """Save a turn (once more after recovering an orphan that made it busy), then
    announce it and start its reply."""
    hub = await engine.ahub()
    try:
        turn = await save()
    except turns.TurnRefused as refused:
        if refused.code != "busy" or refused.message_id is None:
            raise
        if hub.owns(refused.message_id):
            raise
        if await recovery.arecover_if_orphaned(hub, refused.message_id) is None:
            raise
        turn = await save()
    if not turn.created:
        return turn
    assert turn.assistant is not None
    # Registered before anyone hears of it, so a socket opening now sees it live;
    # announced before its task runs, so message.created precedes every delta.
    live = hub.register(conversation_id, turn.assistant.pk)
    runner.start_live(live, turn)
    await hub.deliver(conversation_id, protocol.message_created(turn))
    if turn.settings_changed:
        await hub.deliver(
            conversation_id, protocol.conversation_updated(turn.conversation)
        )
    # An agent conversation's replies come from its agent, not chat completions.
    run = assistant_runner.arun if turn.conversation.assistant_id else runner.arun
    hub.run_reply(live, run(hub, live, turn))
    return turn


async def asend(
    conversation_id: str,
    owner_id: int,
    client_id: uuid.UUID,
    text: str,
    options: dict[str, Any] | None = None,
    attachment_ids: Sequence[int] = (),
) -> turns.Turn:
    """Save and start a message.send (raises turns.TurnRefused)."""
    return await _start_turn(
        lambda: turns.asend_message(
            conversation_id, owner_id, client_id, text, options, attachment_ids
        ),
        conversation_id,
    )


async def aregenerate(
    conversation_id: str, owner_id: int, client_id: uuid.UUID
) -> turns.Turn:
    """Save and start a reply.regenerate (raises turns.TurnRefused)."""
    return await _start_turn(
        lambda: turns.aregenerate_reply(conversation_id, owner_id, client_id),
        conversation_id,
    )


async def aedit(
    conversation_id: str,
    owner_id: int,
    message_id: int,
    client_id: uuid.UUID,
    text: str,
) -> turns.Turn:
    """Save and start a message.edit (raises turns.TurnRefused)."""
    return await _start_turn(
        lambda: turns.aedit_message(
            conversation_id, owner_id, message_id, client_id, text
        ),
        conversation_id,
    )


async def acontinue(
    conversation_id: str, owner_id: int, client_id: uuid.UUID, message_id: int
) -> turns.Turn:
    """Make the last answer stream again and append a continuation (raises
    turns.TurnRefused)."""
    return await _start_turn(
        lambda: turns.acontinue_reply(conversation_id, owner_id, client_id, message_id),
        conversation_id,
    )


async def aselect(conversation_id: str, owner_id: int, message_id: int) -> None:
    """Show another version of the latest answer (raises versions.SelectRefused);
    every socket of the conversation gets reply.selected."""
    message, hidden = await versions.aselect_version(
        conversation_id, owner_id, message_id
    )
    hub = await engine.ahub()
    await hub.deliver(conversation_id, protocol.reply_selected(message, hidden))


async def areplay(turn: turns.Turn, viewer: Viewer) -> None:
    """Answer a repeated client_id: message.created for what exists (to this socket
    only), and the reply's snapshot if it still streams."""
    await viewer.push(protocol.message_replayed(turn, viewer.language))
    assistant = turn.assistant
    if assistant is None or assistant.status != Message.Status.STREAMING:
        return
    hub = await engine.ahub()
    conversation_id = str(turn.conversation.pk)
    live = hub.replies.get(conversation_id)
    if live is not None and live.message_id == assistant.pk:
        await viewer.push(protocol.reply_snapshot(live.snapshot()))
    else:
        await afollow_foreign(conversation_id, [assistant.pk], viewer)


async def astop(conversation_id: str, message_id: int | None = None) -> None:
    """Stop the conversation's streaming reply, wherever it runs. Text is kept."""
    hub = await engine.ahub()
    live = hub.replies.get(conversation_id)
    if live is not None:
        if message_id is None or message_id == live.message_id:
            hub.request_stop(live)
        return
    hub.ask_stop(conversation_id, message_id)
    # Without a live owner anywhere, the reply is an orphan: recover it now.
    await recovery.asweep(hub, conversation_id)
