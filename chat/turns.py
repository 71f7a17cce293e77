"""The database side of a conversation's turns: send, regenerate, edit, finish.

Every service here is synchronous (each runs in one transaction) and has an async twin
for the reply engine, run as chat/dbpool.py's rule says (writes on the writer, reads
in the pool; the twins are at the end). The reply itself is run by chat.replies; these
functions only save what it needs and what it produced. A conversation's settings are
checked and written by chat/conversation_settings.py, here as everywhere.

Rules kept here:
- Idempotent by `client_id`: the unique constraint (conversation, client_id) holds
  one message per id; a repeated id returns the existing turn (`created=False`).
- One streaming reply per conversation: a new turn while one streams is refused
  (`TurnRefused("busy")`). The conversation row is locked first (SELECT ... FOR
  UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers anyway), so
  two tabs pressing send together cannot both start a reply.
- Nothing is deleted: regenerate and edit mark the turns they replace `superseded`.
- A reply is written twice in all: created `streaming` with the user's message, then
  finished once (a conditional UPDATE). Its length changes neither count.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import (
    accept_sql,
    attachments,
    conversation_settings,
    dbpool,
    message_pages,
    versions,
)
from chat.models import Conversation, Message, Summary


class TurnRefused(Exception):
    """A turn could not start; `code` is the protocol's error code."""

    def __init__(
        self,
        code: str,
        message_id: int | None = None,
        *,
        field: str = "",
        reason: ValidationError | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        # For "busy": the assistant message that is still streaming.
        self.message_id = message_id
        # For "invalid": the refused option (`options.max_tokens`) and why.
        self.field = field
        self.reason = reason


@dataclass
class Turn:
    """What a send, regenerate or edit saved (or found saved before)."""

    conversation: Conversation
    user: Message | None
    assistant: Message | None
    client_id: uuid.UUID
    superseded: list[int] = field(default_factory=list)
    # False when the client_id was seen before: nothing new was saved or started.
    created: bool = True
    # The message.send options changed the conversation's settings.
    settings_changed: bool = False
    # The user message the reply answers (the context ends there).
    reply_to_id: int | None = None
    # A reply.continue: `assistant` is an earlier answer streaming again, its new
    # text appended to what it had (continue_reply).
    continued: bool = False
    # The conversation's whole visible history up to the message answered, when the
    # save proved it (a conversation's first message); None: read it.
    history: list[Message] | None = None


@dataclass(frozen=True)
class ReplyOutcome:
    """How a reply ended, as finish_reply saves it."""

    status: str
    content: str
    reasoning: str = ""
    web_search: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    error_code: str = ""
    error_upstream_code: str = ""
    error_message: str = ""
    error_detail: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    finish_reason: str = ""
    request_id: str = ""
    seen_attachments: list[int] = field(default_factory=list)


def _locked_conversation(conversation_id: str, owner_id: int) -> Conversation:
    # The conversation with its character and persona (as the manager's
    # select_related loads them), the row locked on PostgreSQL; SQL written once
    # (chat.accept_sql): building this query was a third of a send's CPU.
    pk = accept_sql.conversation_id_value(conversation_id)
    conversation = None
    if pk is not None:
        conversation = accept_sql.locked_conversation(pk, owner_id)
    if conversation is None:
        raise TurnRefused("not_found")
    return conversation


def _existing_turn(conversation: Conversation, client_id: uuid.UUID) -> Turn | None:
    existing = Message.objects.filter(
        conversation=conversation, client_id=client_id
    ).first()
    if existing is None:
        return None
    if existing.role == Message.Role.ASSISTANT:  # a regenerate's reply
        return Turn(conversation, None, existing, client_id, created=False)
    # Loaded here: the replayed message.created is built on the event loop.
    existing.attachment_rows = attachments.rows_of(existing)  # type: ignore[attr-defined]
    # The reply to a user message is the first assistant message saved after it.
    assistant = (
        Message.objects.filter(
            conversation=conversation, role=Message.Role.ASSISTANT, id__gt=existing.pk
        )
        .order_by("id")
        .first()
    )
    return Turn(conversation, existing, assistant, client_id, created=False)


def _existing_or_busy(conversation: Conversation, client_id: uuid.UUID) -> Turn | bool:
    """Return the turn already saved under client_id; else raise TurnRefused("busy")
    if a reply streams; else whether the conversation has any message yet. One
    statement for all three (a burst of sends queues on the writer: every statement
    saved there shortens the wait for the first token)."""
    repeated, streaming, any_message = accept_sql.turn_rows(conversation.pk, client_id)
    if repeated:
        return _existing_turn(conversation, client_id)  # type: ignore[return-value]
    if streaming:
        raise TurnRefused("busy", streaming[0])
    return any_message


def _new_reply(
    conversation: Conversation, client_id: uuid.UUID | None, reply_to: Message
) -> Message:
    reply = accept_sql.insert(
        Message(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            client_id=client_id,
            status=Message.Status.STREAMING,
            model=conversation.model,
            reply_to=reply_to,
        )
    )
    reply.version_ids = [reply.pk]  # type: ignore[attr-defined]  # the first: no query
    return reply


def _new_exchange(
    conversation: Conversation, client_id: uuid.UUID, text: str
) -> tuple[Message, Message]:
    """Save the user's message and the placeholder of the reply it asks for."""
    user = accept_sql.insert(
        Message(
            conversation=conversation,
            role=Message.Role.USER,
            client_id=client_id,
            content=text,
            status=Message.Status.COMPLETE,
        )
    )
    user.attachment_rows = []  # type: ignore[attr-defined]  # none yet: no query
    return user, _new_reply(conversation, None, user)


def _idempotent(build: Any, conversation_id: str, owner_id: int, client_id: uuid.UUID):
    """Run build(conversation, whether it has messages) in a transaction; a
    concurrent insert of the same client_id (the unique constraint fired) returns the
    turn the other request saved."""
    try:
        with transaction.atomic():
            conversation = _locked_conversation(conversation_id, owner_id)
            found = _existing_or_busy(conversation, client_id)
            if isinstance(found, Turn):
                return found
            return build(conversation, found)
    except IntegrityError:
        conversation = Conversation.objects.get(pk=conversation_id, owner_id=owner_id)
        existing = _existing_turn(conversation, client_id)
        if existing is None:
            raise
        return existing


def send_message(
    conversation_id: str,
    owner_id: int,
    client_id: uuid.UUID,
    text: str,
    options: dict[str, Any] | None = None,
    attachment_ids: Sequence[int] = (),
) -> Turn:
    """Save `options` on the conversation, the user's message (with the attachments
    `attachment_ids`, chat.attachments.claim) and a streaming reply.

    Raises TurnRefused("busy") while another reply streams, TurnRefused("not_found")
    when the conversation is gone, TurnRefused("invalid", field=...) when an option
    breaks conversation_settings' rules for the conversation's model,
    TurnRefused("attachment_not_found" | "attachment_refused") when an attachment is
    not the owner's unsent one or the (new) model cannot take it; nothing is saved
    then. A client_id seen before returns that turn.
    """

    def build(conversation: Conversation, had_messages: bool) -> Turn:
        # Checked again here, under the lock: only now is the conversation's model
        # known, which max_tokens, web_search and thinking are checked against.
        try:
            values = conversation_settings.validate_settings(
                options or {},
                current_model=conversation.model,
                has_character=conversation_settings.has_character(conversation),
            )
        except conversation_settings.SettingsInvalid as invalid:
            raise TurnRefused(
                "invalid", field=f"options.{invalid.field}", reason=invalid.error
            ) from None
        # activity: updated_at moves, as the sidebar lists the latest first.
        changed = conversation_settings.apply_settings(
            conversation, values, activity=True
        )
        user, assistant = _new_exchange(conversation, client_id, text)
        if attachment_ids:
            try:
                user.attachment_rows = attachments.claim(  # type: ignore[attr-defined]
                    owner_id, attachment_ids, conversation.model, user
                )
            except attachments.AttachmentRefused as refused:
                raise TurnRefused(
                    refused.code, field="attachments", reason=refused.reason
                ) from None
        return Turn(
            conversation,
            user,
            assistant,
            client_id,
            settings_changed=bool(changed),
            reply_to_id=user.pk,
            # The first message: the context is this message alone, no need to read
            # it back (chat.history).
            history=None if had_messages else [user],
        )

    return _idempotent(build, conversation_id, owner_id, client_id)


def regenerate_reply(conversation_id: str, owner_id: int, client_id: uuid.UUID) -> Turn:
    """Supersede the last reply and save a new streaming one to the last user message.

    Also the retry after a failed reply. Raises TurnRefused("busy") or ("not_found")
    when the conversation has no user message to answer.
    """

    def build(conversation: Conversation, _had_messages: bool) -> Turn:
        visible = Message.objects.filter(conversation=conversation, superseded=False)
        last = visible.order_by("-id").first()
        user = visible.filter(role=Message.Role.USER).order_by("-id").first()
        if last is None or user is None:
            raise TurnRefused("not_found")
        superseded: list[int] = []
        if last.role == Message.Role.ASSISTANT:
            visible.filter(pk=last.pk).update(superseded=True)
            superseded.append(last.pk)
        conversation.save(update_fields=["updated_at"])
        assistant = _new_reply(conversation, client_id, user)
        versions.attach_versions([assistant])
        return Turn(
            conversation, None, assistant, client_id, superseded, reply_to_id=user.pk
        )

    return _idempotent(build, conversation_id, owner_id, client_id)


def edit_message(
    conversation_id: str,
    owner_id: int,
    message_id: int,
    client_id: uuid.UUID,
    text: str,
) -> Turn:
    """Supersede a user message and every later one, save `text` in its place and a
    streaming reply to it.

    Summaries that covered a superseded message no longer describe the conversation
    and are deleted (they are derived data; the messages they summarised stay).
    Raises TurnRefused("not_found") unless message_id is a visible user message of
    this conversation, TurnRefused("busy") while a reply streams.
    """

    def build(conversation: Conversation, _had_messages: bool) -> Turn:
        visible = Message.objects.filter(conversation=conversation, superseded=False)
        target = visible.filter(pk=message_id, role=Message.Role.USER).first()
        if target is None:
            raise TurnRefused("not_found")
        later = visible.filter(id__gte=target.pk)
        superseded = list(later.values_list("pk", flat=True))
        later.update(superseded=True)
        Summary.objects.filter(
            conversation=conversation, covers_until_id__in=superseded
        ).delete()
        conversation.save(update_fields=["updated_at"])
        user, assistant = _new_exchange(conversation, client_id, text)
        # The edited message's images go with its new text.
        user.attachment_rows = attachments.copy_to(target, user)  # type: ignore[attr-defined]
        return Turn(
            conversation, user, assistant, client_id, superseded, reply_to_id=user.pk
        )

    return _idempotent(build, conversation_id, owner_id, client_id)


CONTINUABLE = (
    Message.Status.COMPLETE,
    Message.Status.STOPPED,
    Message.Status.INTERRUPTED,
)


def continue_reply(
    conversation_id: str, owner_id: int, client_id: uuid.UUID, message_id: int
) -> Turn:
    """Make the conversation's last answer stream again, to append a continuation.

    The answer keeps its text (the runner sends it back and asks the model to go on)
    and becomes one message again when the continuation ends. Not idempotent by
    `client_id` (nothing new is saved under it): a repeat while it streams is
    refused as busy. Raises TurnRefused("not_found") unless `message_id` is the last
    visible message, an answer with text that ended (complete, stopped or
    interrupted), and in an agent conversation; TurnRefused("busy") while a reply
    streams.
    """
    with transaction.atomic():
        conversation = _locked_conversation(conversation_id, owner_id)
        _existing_or_busy(conversation, client_id)
        if conversation.assistant_id:
            # An agent has no "go on": its platform conversation would get the
            # request as a new question.
            raise TurnRefused("not_found")
        visible = Message.objects.filter(conversation=conversation, superseded=False)
        last = visible.order_by("-id").first()
        user = visible.filter(role=Message.Role.USER).order_by("-id").first()
        if (
            last is None
            or user is None
            or last.pk != message_id
            or last.role != Message.Role.ASSISTANT
            or last.status not in CONTINUABLE
            or not last.content
        ):
            raise TurnRefused("not_found")
        visible.filter(pk=last.pk).update(
            status=Message.Status.STREAMING, finished_at=None
        )
        last.status = Message.Status.STREAMING
        last.finished_at = None
        conversation.save(update_fields=["updated_at"])
        versions.attach_versions([last])
        return Turn(
            conversation, None, last, client_id, reply_to_id=user.pk, continued=True
        )


def finish_reply(message: Message, outcome: ReplyOutcome) -> Message | None:
    """Save how a streaming reply ended, in one conditional UPDATE.

    Returns `message` updated in memory, or None when it was no longer streaming
    (another process already finished it, e.g. start-up recovery).
    """
    fields = {
        "status": outcome.status,
        "content": outcome.content,
        "reasoning": outcome.reasoning,
        "web_search": outcome.web_search,
        "tool_calls": outcome.tool_calls,
        "error_code": outcome.error_code,
        "error_upstream_code": outcome.error_upstream_code,
        "error_message": outcome.error_message[:2000],
        "error_detail": outcome.error_detail,
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
        "reasoning_tokens": outcome.reasoning_tokens,
        "finish_reason": outcome.finish_reason[:32],
        "request_id": outcome.request_id[:128],
        "seen_attachments": outcome.seen_attachments,
        "finished_at": timezone.now(),
        "updated_at": timezone.now(),
    }
    # SQL written once (chat.accept_sql): building this 17-column UPDATE with the ORM
    # cost more than running it, on the writer every accept waits for.
    if not accept_sql.finish_streaming(message.pk, fields):
        return None
    for name, value in fields.items():
        setattr(message, name, value)
    return message


def interrupt_orphan(
    message_id: int, content: str, reasoning: str, web_search: list[dict[str, Any]]
) -> Message | None:
    """Mark a reply left streaming by a dead process interrupted, keeping the text of
    its last checkpoint; error code `server_restarted`.

    Returns the message, or None when it was no longer streaming.
    """
    now = timezone.now()
    updated = Message.objects.filter(
        pk=message_id, status=Message.Status.STREAMING
    ).update(
        status=Message.Status.INTERRUPTED,
        content=content,
        reasoning=reasoning,
        web_search=web_search,
        error_code="server_restarted",
        finished_at=now,
        updated_at=now,
    )
    return Message.objects.get(pk=message_id) if updated else None


def load_history(
    conversation_id: str, owner_id: int
) -> tuple[Conversation, message_pages.MessagePage, list[Summary]] | None:
    """Return a live conversation of this owner with its newest page of visible
    messages (oldest first, with their versions; chat.message_pages) and its summaries,
    or None. Five queries, whatever the length."""
    try:
        conversation = Conversation.objects.get(
            pk=conversation_id, owner_id=owner_id, deleted_at__isnull=True
        )
    except (Conversation.DoesNotExist, ValueError, ValidationError):
        return None
    page = message_pages.page_before(conversation)
    summaries = list(Summary.objects.filter(conversation=conversation))
    return conversation, page, summaries


def get_message(message_id: int) -> Message | None:
    """Return a message by id, or None."""
    return Message.objects.filter(pk=message_id).first()


def streaming_messages() -> list[tuple[int, str, Any]]:
    """Return (id, conversation id, created_at) of every reply marked streaming."""
    return [
        (pk, str(conversation_id), created_at)
        for pk, conversation_id, created_at in Message.objects.filter(
            status=Message.Status.STREAMING
        ).values_list("pk", "conversation_id", "created_at")
    ]


asend_message = dbpool.in_writer(send_message)
aregenerate_reply = dbpool.in_writer(regenerate_reply)
aedit_message = dbpool.in_writer(edit_message)
acontinue_reply = dbpool.in_writer(continue_reply)
afinish_reply = dbpool.in_writer(finish_reply)
ainterrupt_orphan = dbpool.in_writer(interrupt_orphan)
aload_history = dbpool.in_pool(load_history)
aget_message = dbpool.in_pool(get_message)
astreaming_messages = dbpool.in_pool(streaming_messages)
