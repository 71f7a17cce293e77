"""The messages a reply is generated from: history within the model's context budget.

`aprepare_context` is what the reply code calls before each model call. It sends, in
order: one system message (the conversation's system prompt, after its character
compiled into a prompt on a model without `meta` (chat.characters.prompting), and,
when older turns are summarised, the summary in their place), then the most recent
visible turns up to and including the user message being answered.

A round is a user message and the reply to it. Older rounds are summarised (one model
call, chat.summaries) when

- they no longer fit in the budget (the model's context from chat.catalog, less the
  room kept for the reply, capped by GLMWEB_CONTEXT_MAX_TOKENS), or
- GLMWEB_SUMMARY_EVERY_ROUNDS (default 4, as the seed advises summarising every 3-5
  rounds) rounds have gathered beyond the GLMWEB_SUMMARY_KEEP_ROUNDS (default 2)
  newest ones, which are always sent verbatim.

If summarising fails, the oldest rounds are left out instead: the reply never fails
because of a summary. Token counts are estimates (chat.tokens), erring high.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

from django.conf import settings

from chat import accept_sql, catalog, dbpool, summaries, tokens, vision
from chat.characters import prompting
from chat.models import Conversation, Message, Summary
from glmweb import zhipu

SUMMARY_HEADER = (
    "以下是本对话较早部分的摘要，它代替了较早的消息。"
    "(A summary of the earlier part of this conversation, in place of its older "
    "messages.)"
)
# Assistant replies worth sending back: finished, stopped or cut-off text. Streaming
# placeholders and failed replies are left out.
_SENDABLE_REPLIES = {
    Message.Status.COMPLETE,
    Message.Status.STOPPED,
    Message.Status.INTERRUPTED,
}
# The smallest budget ever used, whatever the settings say.
_MIN_BUDGET = 256


@dataclass(frozen=True)
class PreparedContext:
    """What to send for one reply.

    `messages`: [{"role", "content"}] ready for the API. `summary`: the Summary saved
    by this call, or None. `budget` and `estimated_tokens`: the input budget and the
    estimate of `messages`. `omitted`: visible turns neither sent nor covered by a
    summary (left out because they did not fit and summarising failed).
    `attachment_ids`: the attachments `messages` carry (chat.vision), in order.
    """

    messages: list[zhipu.Message]
    summary: Summary | None
    budget: int
    estimated_tokens: int
    omitted: int = 0
    attachment_ids: list[int] = field(default_factory=list)


@dataclass
class _Loaded:
    conversation: Conversation
    previous: Summary | None
    rounds: list[list[Message]]  # oldest first; the last holds the message answered
    # The prompt before any summary (the character's and the conversation's own),
    # built once per reply.
    system_prompt: str


def input_budget(conversation: Conversation) -> int:
    """Return how many tokens of input a reply in `conversation` may send."""
    model = catalog.describe(conversation.model)
    reserve = conversation.max_tokens or min(
        settings.GLMWEB_REPLY_RESERVE_TOKENS, model.max_output
    )
    budget = model.context - reserve
    if settings.GLMWEB_CONTEXT_MAX_TOKENS:
        budget = min(budget, settings.GLMWEB_CONTEXT_MAX_TOKENS)
    return max(budget, _MIN_BUDGET)


def _sendable(message: Message) -> bool:
    if not message.content:
        return False
    return message.role == Message.Role.USER or message.status in _SENDABLE_REPLIES


def _rounds(messages: list[Message]) -> list[list[Message]]:
    rounds: list[list[Message]] = []
    for message in messages:
        if message.role == Message.Role.USER or not rounds:
            rounds.append([message])
        else:
            rounds[-1].append(message)
    return rounds


def _load(
    conversation_id: UUID | str,
    until_message_id: int,
    conversation: Conversation | None = None,
    known: Sequence[Message] | None = None,
) -> _Loaded:
    # Two or three queries: the reply engine passes the conversation it has just
    # locked and saved, and `until` comes back among the rows (a burst of sends
    # showed each query here in the time to first token). None with `known`.
    if conversation is None:
        conversation = Conversation.objects.get(pk=conversation_id)
    if known is not None:
        return _loaded(
            conversation, None, list(known), until_message_id, _has_media(known)
        )
    previous = summaries.latest_summary(
        conversation.pk, before_message_id=until_message_id
    )
    # The visible messages up to `until` (after the summary's), oldest first; SQL
    # written once (chat.accept_sql), as the ORM spent most of this read building it.
    rows = accept_sql.visible_messages(
        conversation.pk,
        until_message_id,
        previous.covers_until_id if previous is not None else None,
    )
    return _loaded(conversation, previous, rows, until_message_id)


def _loaded(
    conversation: Conversation,
    previous: Summary | None,
    loaded: list[Message],
    until_message_id: int,
    media: bool = True,
) -> _Loaded:
    until = next((m for m in reversed(loaded) if m.pk == until_message_id), None)
    if until is None:
        raise Message.DoesNotExist(f"no visible message {until_message_id} here")
    messages = [m for m in loaded if _sendable(m)]
    if not messages or messages[-1].pk != until.pk:
        messages = [m for m in messages if m.pk != until.pk] + [until]
    # A vision model's images and videos, chosen within its limits and read here, in
    # the pool (no query for a text model, nor for messages known to have none).
    if media:
        vision.load_media(conversation.model, messages)
    return _Loaded(
        conversation, previous, _rounds(messages), prompting.system_prompt(conversation)
    )


def _has_media(messages: Sequence[Message]) -> bool:
    # Attachments mean files to read (chat.vision.load_media): the pool's work. A
    # message saved just now carries its rows (chat.turns); others count as having.
    return any(getattr(m, "attachment_rows", True) for m in messages)


def _system_message(system_prompt: str, summary: str | None) -> list[dict[str, str]]:
    # One system message at the start: the platform's documented shape, and the one
    # every model (role-play ones too) accepts.
    parts = [system_prompt.strip()] if system_prompt.strip() else []
    if summary:
        parts.append(f"{SUMMARY_HEADER}\n\n{summary}")
    if not parts:
        return []
    return [{"role": "system", "content": "\n\n".join(parts)}]


def _cost(messages: list[dict[str, Any]] | list[Message]) -> int:
    total = 0
    for message in messages:
        if not isinstance(message, dict):
            total += tokens.estimate_message(message.content)
            total += vision.media_tokens(message)
            continue
        content = message["content"]
        if isinstance(content, str):
            total += tokens.estimate_message(content)
            continue
        for part in content:  # multimodal parts (chat.vision.content)
            if part["type"] == "text":
                total += tokens.estimate_message(part["text"])
            elif part["type"] == "video_url":
                total += vision.VIDEO_TOKENS
            else:
                total += vision.IMAGE_TOKENS
    return total


def _fitting_rounds(rounds: list[list[Message]], room: int) -> int:
    """Return how many of the newest rounds fit in `room` (the last always counts)."""
    kept = 1
    used = _cost(rounds[-1])
    for round_ in reversed(rounds[:-1]):
        used += _cost(round_)
        if used > room:
            break
        kept += 1
    return kept


def _turns(rounds: list[list[Message]]) -> list[dict[str, Any]]:
    return [{"role": m.role, "content": vision.content(m)} for r in rounds for m in r]


def _result(
    loaded: _Loaded,
    summary_text: str | None,
    kept: list[list[Message]],
    budget: int,
    *,
    summary: Summary | None = None,
    omitted: int = 0,
) -> PreparedContext:
    messages: list[dict[str, Any]] = []
    messages += _system_message(loaded.system_prompt, summary_text)
    messages += _turns(kept)
    return PreparedContext(
        # Roles come from Message.Role, which holds only the API's role names.
        messages=cast("list[zhipu.Message]", messages),
        summary=summary,
        budget=budget,
        estimated_tokens=_cost(messages),
        omitted=omitted,
        attachment_ids=vision.sent_ids([m for r in kept for m in r]),
    )


async def aprepare_context(
    conversation_id: UUID | str,
    *,
    until_message_id: int,
    conversation: Conversation | None = None,
    known: Sequence[Message] | None = None,
) -> PreparedContext:
    """Return the messages to send for a reply to user message `until_message_id`.

    Summarises older turns first when that is due (see the module docstring),
    saving a Summary (returned as `.summary`, for a `summary.created` frame). Raises
    Conversation.DoesNotExist / Message.DoesNotExist when the conversation or a
    visible message `until_message_id` in it does not exist. `conversation`, when
    given, is used as loaded (the caller has just read it) instead of read again;
    `known`, with it, is the conversation's whole visible history up to that message
    (chat.turns proved it while saving: a conversation's first message) and is not
    read again either.
    """
    if conversation is not None and known is not None and not _has_media(known):
        # No query and no file to read: nothing to wait for in the pool.
        loaded = _load(conversation_id, until_message_id, conversation, known)
    else:
        loaded = await dbpool.in_pool(_load)(
            conversation_id, until_message_id, conversation, known
        )
    conversation, previous, rounds = loaded.conversation, loaded.previous, loaded.rounds
    budget = input_budget(conversation)
    previous_text = previous.content if previous else None
    base = _cost(_system_message(loaded.system_prompt, previous_text))
    older = len(rounds) - 1
    every = settings.GLMWEB_SUMMARY_EVERY_ROUNDS
    keep = settings.GLMWEB_SUMMARY_KEEP_ROUNDS
    fits = base + sum(_cost(r) for r in rounds) <= budget
    periodic = every > 0 and older >= every + keep
    if fits and not periodic:
        return _result(loaded, previous_text, rounds, budget)

    # Room for the kept rounds once a (new) summary of at most
    # GLMWEB_SUMMARY_MAX_TOKENS stands in for the rest.
    room = (
        budget
        - _cost(_system_message(loaded.system_prompt, None))
        - settings.GLMWEB_SUMMARY_MAX_TOKENS
        - tokens.estimate(SUMMARY_HEADER)
    )
    kept_count = _fitting_rounds(rounds, room)
    if fits:
        kept_count = min(kept_count, keep + 1)
    to_cover = rounds[: len(rounds) - kept_count]
    summary = None
    if to_cover:
        summary = await summaries.asummarise(
            conversation.pk,
            previous=previous,
            messages=[m for r in to_cover for m in r],
            roles=prompting.roles(conversation),
        )
    if summary is not None:
        kept = rounds[len(to_cover) :]
        base = _cost(_system_message(loaded.system_prompt, summary.content))
        # The summary may come out longer than estimated: trim kept rounds to fit.
        kept = kept[len(kept) - _fitting_rounds(kept, budget - base) :]
        omitted = sum(len(r) for r in rounds[len(to_cover) :]) - sum(
            len(r) for r in kept
        )
        return _result(
            loaded, summary.content, kept, budget, summary=summary, omitted=omitted
        )

    # No new summary: send the previous one (when it leaves room for the question)
    # and as many of the newest rounds as fit.
    if previous_text and base + _cost(rounds[-1]) > budget:
        previous_text = None
        base = _cost(_system_message(loaded.system_prompt, None))
    kept_count = _fitting_rounds(rounds, budget - base)
    kept = rounds[len(rounds) - kept_count :]
    omitted = sum(len(r) for r in rounds[: len(rounds) - kept_count])
    return _result(loaded, previous_text, kept, budget, omitted=omitted)
