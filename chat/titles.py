"""Automatic conversation titles, set once after the first completed exchange.

GLMWEB_AUTO_TITLE picks how: "model" (default) asks GLMWEB_TITLE_MODEL for a short
title and falls back to the first line of the user's message when that call fails;
"text" always uses that first line; "off" leaves conversations untitled (the
benchmark's choice, so it measures replies only).

Database I/O follows chat.dbpool's rule (reads in the pool, writes through the
writer), as the rest of the reply path does.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet

from chat import catalog, dbpool
from chat.models import Conversation, Message
from glmweb import zhipu

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 40
TITLE_INSTRUCTIONS = (
    "Write a short title (at most 6 words, or 12 Chinese characters) for the "
    "conversation below, in the language of the user's message. Reply with the title "
    "only, without quotes or a full stop."
)
# Characters of each message the title call sees; the opening is what names a topic.
_EXCERPT_CHARS = 1000
_LABEL = re.compile(r"^(title|标题|題目|题目)\s*[:：]\s*", re.IGNORECASE)
_WRAPPERS = "\"'“”‘’「」『』《》`*_#【】[]() "
_TRAILING = "。.!！?？:：;；,，、"


def clean_title(text: str, *, limit: int = TITLE_MAX_CHARS) -> str:
    """Return `text` as a one-line title: first non-empty line, labels, Markdown and
    quotes stripped, whitespace collapsed, at most `limit` characters (with "…")."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    line = line.lstrip("#>-* ").strip()
    line = _LABEL.sub("", line)
    line = line.strip(_WRAPPERS).rstrip(_TRAILING).strip(_WRAPPERS)
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def _untitled(conversation_id: UUID | str) -> QuerySet[Conversation]:
    return Conversation.objects.filter(
        pk=conversation_id, title_is_auto=True, title="", deleted_at__isnull=True
    )


def _untitled_exchange(conversation_id: UUID | str) -> tuple[Message, Message] | None:
    """Return the first exchange of a conversation still waiting for its title."""
    if not _untitled(conversation_id).exists():
        return None
    messages = Message.objects.filter(
        conversation_id=conversation_id, superseded=False
    ).order_by("created_at", "id")
    question = None
    for message in messages[:50]:
        if message.role == Message.Role.USER:
            question = message
        elif (
            question is not None
            and message.status == Message.Status.COMPLETE
            and message.content
        ):
            return question, message
    return None


def _save_title(conversation_id: UUID | str, title: str) -> Conversation | None:
    # Conditional: a rename by the user in the meantime wins.
    if not _untitled(conversation_id).update(title=title):
        return None
    return Conversation.objects.get(pk=conversation_id)


_aread_exchange = dbpool.in_pool(_untitled_exchange)
_asave_title = dbpool.in_writer(_save_title)


async def _model_title(question: str, answer: str) -> str:
    model = catalog.describe(settings.GLMWEB_TITLE_MODEL)
    options: dict[str, Any] = {"max_tokens": 32, "temperature": 0.3}
    if model.supports("thinking"):
        options["thinking"] = False
    request: list[zhipu.Message] = [
        {"role": "system", "content": TITLE_INSTRUCTIONS},
        {
            "role": "user",
            "content": f"User: {question[:_EXCERPT_CHARS]}\n\n"
            f"Assistant: {answer[:_EXCERPT_CHARS]}",
        },
    ]
    completion = await asyncio.wait_for(
        zhipu.achat(request, model=model.code, max_retries=1, **options),
        timeout=settings.GLMWEB_TITLE_TIMEOUT,
    )
    return "" if completion.blocked else clean_title(completion.content)


async def amaybe_title(conversation_id: UUID | str) -> Conversation | None:
    """Title the conversation after its first completed exchange, once.

    Does nothing (returns None) when titles are off, the title is not automatic or
    already set, the conversation is deleted or has no completed exchange yet.
    Otherwise saves the title and returns the conversation, for a
    `conversation.updated` frame. A failed model call falls back to the first line of
    the user's message; this never raises for upstream failures.
    """
    mode = settings.GLMWEB_AUTO_TITLE
    if mode == "off":
        return None
    exchange = await _aread_exchange(conversation_id)
    if exchange is None:
        return None
    question, answer = exchange
    title = ""
    if mode == "model":
        try:
            title = await _model_title(question.content, answer.content)
        except (zhipu.GLMError, TimeoutError) as exc:
            logger.warning(
                "title of conversation %s failed (%s); using the message",
                conversation_id,
                getattr(exc, "kind", type(exc).__name__),
            )
    title = title or clean_title(question.content)
    if not title:
        return None
    return await _asave_title(conversation_id, title)
