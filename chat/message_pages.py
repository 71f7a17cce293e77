"""A conversation's visible messages a page at a time, newest page first.

The socket's conversation.history carries the newest page; the page asks for older
ones over HTTP (GET /api/conversations/<id>/messages/?before=<id>) as the reader
scrolls up. One rule for both: the visible messages in the conversation's order
(created_at, id), cut before a cursor message. Superseded turns are never in a page,
so an edit or a regenerate between two page loads hides messages but never shifts
others into a page already loaded or out of one not loaded yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from chat import attachments, versions
from chat.models import Conversation, Message

# Messages in a page: enough to fill a tall screen a few times over, few enough that a
# conversation of thousands opens as fast as a short one (docs/performance.md).
PAGE_SIZE = 100
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class MessagePage:
    """Messages oldest first (with attachments and versions) and whether older exist."""

    messages: list[Message]
    has_more: bool


def page_before(
    conversation: Conversation, before: int | None = None, limit: int = PAGE_SIZE
) -> MessagePage:
    """Return up to `limit` visible messages that come before message `before` (the
    newest ones when None). A `before` that is not a message of this conversation
    gives an empty page. Four queries at most, whatever the length."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = Message.objects.filter(conversation=conversation, superseded=False)
    if before is not None:
        cursor = (
            Message.objects.filter(pk=before, conversation=conversation)
            .values_list("created_at", flat=True)
            .first()
        )
        if cursor is None:
            return MessagePage([], False)
        rows = rows.filter(
            Q(created_at__lt=cursor) | Q(created_at=cursor, pk__lt=before)
        )
    newest = list(
        attachments.with_attachments(rows).order_by("-created_at", "-id")[: limit + 1]
    )
    has_more = len(newest) > limit
    messages = newest[:limit][::-1]
    versions.attach_versions(messages)
    return MessagePage(messages, has_more)
