"""Summaries that stand in for a conversation's older turns.

chat.history decides when older turns must be summarised; this module writes the
summary with one non-streamed model call (GLMWEB_SUMMARY_MODEL, glm-4-flash unless
set) and saves it. Each summary is cumulative: it folds the previous summary and the
newly covered turns into one text, so only the newest applicable summary is ever sent.
Database I/O follows chat.dbpool's rule (the summary is saved through the writer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.conf import settings

from chat import accept_sql, catalog, dbpool, tokens
from chat.characters import prompting
from chat.models import Message, Summary
from glmweb import zhipu

logger = logging.getLogger(__name__)

SUMMARY_INSTRUCTIONS = (
    "You keep a running summary of a chat between a user and an AI assistant. "
    "Summarise the conversation below, folding in the previous summary if one is "
    "given. Keep every fact, decision, name, number, code identifier, preference and "
    "open question the assistant needs to carry on the conversation; drop small talk. "
    "Write in the language the conversation is mostly in. Reply with the summary only."
)
# Added for a conversation with a character: a story's summary must keep who is who
# and what has happened, or the next reply breaks the story.
ROLEPLAY_INSTRUCTIONS = (
    "This conversation is a role-play: {user} (the user) and {character} (played by "
    "the assistant). Keep both names and every other character's name, who they are "
    "and how they relate, where the story stands, and every event and fact of the "
    "story so far, in the order they happened."
)
# Tokens kept free in the summary model's context beside the reply and instructions.
_MARGIN = 256


def latest_summary(
    conversation_id: UUID | str, *, before_message_id: int
) -> Summary | None:
    """Return the newest summary that still applies before `before_message_id`.

    It applies while the message it ends with is visible: an edit that hides that
    message (and everything after it) retires the summary.
    """
    # Every reply's context asks this: SQL written once (chat.accept_sql).
    return accept_sql.latest_visible_summary(conversation_id, before_message_id)


def _save_summary(**fields: object) -> Summary:
    return Summary.objects.create(**fields)


_asave_summary = dbpool.in_writer(_save_summary)


def _speaker(message: Message, roles: prompting.Roles | None) -> str:
    if message.role == Message.Role.USER:
        return roles.user if roles else "User"
    return roles.character if roles else "Assistant"


def instructions(roles: prompting.Roles | None) -> str:
    """Return the summary call's system prompt: a role-play's keeps its names."""
    if roles is None:
        return SUMMARY_INSTRUCTIONS
    extra = ROLEPLAY_INSTRUCTIONS.format(user=roles.user, character=roles.character)
    return f"{SUMMARY_INSTRUCTIONS} {extra}"


def build_request(
    previous: str | None,
    messages: Sequence[Message],
    *,
    input_budget: int,
    roles: prompting.Roles | None = None,
) -> list[zhipu.Message]:
    """Return the messages of the summary call.

    The transcript keeps the newest turns that fit in `input_budget` tokens (older ones
    are already in `previous`, or are lost if they never fitted anywhere); a single
    turn longer than the budget is cut to its beginning. With `roles` (a role-play)
    the speakers go by their names and the instructions say to keep the story.
    """
    system = instructions(roles)
    budget = input_budget - tokens.estimate(system)
    head = f"Previous summary:\n{previous}\n\n" if previous else ""
    budget -= tokens.estimate(head)
    lines: list[str] = []
    for message in reversed(messages):
        line = f"{_speaker(message, roles)}: {message.content}"
        cost = tokens.estimate(line) + 1
        if cost > budget:
            if not lines and budget > 0:
                # Each character costs at most one token, so this many always fit.
                lines.append(line[:budget])
            break
        lines.append(line)
        budget -= cost
    transcript = "\n\n".join(reversed(lines))
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"{head}Conversation:\n\n{transcript}"},
    ]


async def asummarise(
    conversation_id: object,
    *,
    previous: Summary | None,
    messages: Sequence[Message],
    roles: prompting.Roles | None = None,
) -> Summary | None:
    """Write and save a summary of `previous` plus `messages` (oldest first); with
    `roles`, as a role-play's (see build_request).

    Returns the new Summary, covering up to the last of `messages`, or None when the
    model call fails, times out, is filtered or answers nothing: the caller then
    falls back to truncating, so a summary never costs the user their reply.
    """
    if not messages:
        return None
    model = catalog.describe(settings.GLMWEB_SUMMARY_MODEL)
    max_tokens = min(settings.GLMWEB_SUMMARY_MAX_TOKENS, model.max_output)
    request = build_request(
        previous.content if previous else None,
        messages,
        input_budget=model.context - max_tokens - _MARGIN,
        roles=roles,
    )
    options: dict[str, Any] = {"max_tokens": max_tokens, "temperature": 0.3}
    if model.supports("thinking"):
        options["thinking"] = False  # a summary needs no reasoning, only speed
    try:
        completion = await asyncio.wait_for(
            zhipu.achat(request, model=model.code, max_retries=1, **options),
            timeout=settings.GLMWEB_SUMMARY_TIMEOUT,
        )
    except (zhipu.GLMError, TimeoutError) as exc:
        logger.warning(
            "summary of conversation %s failed (%s); truncating instead",
            conversation_id,
            getattr(exc, "kind", type(exc).__name__),
        )
        return None
    content = completion.content.strip()
    if not content or completion.blocked:
        logger.warning("summary of conversation %s came back empty", conversation_id)
        return None
    return await _asave_summary(
        conversation_id=conversation_id,
        content=content,
        covers_until=messages[-1],
        covered_messages=(previous.covered_messages if previous else 0) + len(messages),
        model=completion.model or model.code,
    )
