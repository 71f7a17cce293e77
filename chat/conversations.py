"""Conversations as the sidebar sees them: create, list, search, change, delete, undo.

Every lookup takes the user and filters by owner, so another user's conversation is
indistinguishable from a missing one (Http404, never 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone

from chat import attachments, conversation_settings, search, versions
from chat.models import Attachment, Conversation, Message, Summary

# The sidebar loads this many conversations at a time (more as it scrolls).
SIDEBAR_PAGE = 100
# Characters of context on each side of a search match in a snippet.
SNIPPET_RADIUS = 40

# Fields a user may change (PATCH): the form checks the first three, the settings are
# conversation_settings'.
EDITABLE_FIELDS = ("title", "pinned", "archived", *conversation_settings.FIELDS)


@dataclass(frozen=True)
class ConversationHit:
    """A sidebar row: the conversation and, when matched on message text, a snippet."""

    conversation: Conversation
    snippet: str | None = None


@dataclass(frozen=True)
class SidebarPage:
    """A page of sidebar rows and the cursor of the next page (None: the last)."""

    hits: list[ConversationHit]
    next_cursor: str | None


class InvalidCursor(ValueError):
    """A sidebar cursor this module did not make."""


def _cursor_of(conversation: Conversation) -> str:
    # The sidebar's order (pinned, updated_at, id), so a page starts after the last
    # row of the one before whatever was added or moved up meanwhile.
    pinned = int(conversation.pinned)
    return f"{pinned}_{conversation.updated_at.isoformat()}_{conversation.pk}"


def _after_cursor(cursor: str) -> Q:
    try:
        pinned_text, updated_text, pk_text = cursor.split("_")
        pinned = pinned_text == "1"
        if pinned_text not in {"0", "1"}:
            raise ValueError(cursor)
        updated = datetime.fromisoformat(updated_text)
        pk = UUID(pk_text)
    except ValueError as invalid:
        raise InvalidCursor(cursor) from invalid
    return (
        Q(pinned__lt=pinned)
        | Q(pinned=pinned, updated_at__lt=updated)
        | Q(pinned=pinned, updated_at=updated, pk__lt=pk)
    )


def get_owned_conversation(
    user: User, conversation_id: UUID | str, *, deleted: bool = False
) -> Conversation:
    """Return `user`'s conversation; Http404 if missing, someone else's, or deleted.

    With `deleted=True` return it only if it is soft-deleted (for undo).
    """
    conversation = (
        Conversation.objects.filter(
            pk=conversation_id, owner=user, deleted_at__isnull=not deleted
        )
        .order_by()
        .first()
    )
    if conversation is None:
        raise Http404("No such conversation")
    return conversation


def create_conversation(user: User, **fields: Any) -> Conversation:
    """Create a conversation for `user` with validated `fields` (see EDITABLE_FIELDS).

    Unset settings get conversation_settings.defaults(): the catalog's default model,
    no system prompt, and the platform's own sampling defaults (None).
    """
    title = fields.get("title") or ""
    return Conversation.objects.create(
        owner=user,
        title=title,
        title_is_auto=not title,
        pinned=bool(fields.get("pinned")),
        archived=bool(fields.get("archived")),
        **conversation_settings.initial_settings(fields),
    )


def _save_fields(conversation: Conversation, values: dict[str, Any]) -> None:
    # A queryset update leaves updated_at alone: renaming, pinning or archiving is not
    # activity, so it must not move the conversation up the "most recent" order.
    Conversation.objects.filter(pk=conversation.pk).update(**values)
    for key, value in values.items():
        setattr(conversation, key, value)


def update_conversation(conversation: Conversation, **changes: Any) -> Conversation:
    """Apply validated `changes` (keys of EDITABLE_FIELDS) and save them.

    A title set by the user turns automatic titling off for good. The settings are
    written by conversation_settings.apply_settings (changing the model turns off web
    search or thinking when the new model lacks them). The conversation's
    `updated_at` (its place in the sidebar) does not change.
    """
    values = {
        key: changes[key] for key in ("title", "pinned", "archived") if key in changes
    }
    if "title" in values:
        values["title"] = values["title"] or ""
        values["title_is_auto"] = False
    with transaction.atomic():
        if values:
            _save_fields(conversation, values)
        conversation_settings.apply_settings(conversation, changes)
    return conversation


def delete_conversation(conversation: Conversation) -> Conversation:
    """Soft-delete: hide it everywhere until restored or purged."""
    _save_fields(conversation, {"deleted_at": timezone.now()})
    return conversation


def restore_conversation(conversation: Conversation) -> Conversation:
    """Undo a delete."""
    _save_fields(conversation, {"deleted_at": None})
    return conversation


def purge_deleted_conversations(*, older_than_days: int | None = None) -> int:
    """Delete for good conversations soft-deleted more than N days ago.

    N defaults to GLMWEB_DELETED_RETENTION_DAYS. Returns how many were purged.
    """
    days = (
        settings.GLMWEB_DELETED_RETENTION_DAYS
        if older_than_days is None
        else older_than_days
    )
    cutoff = timezone.now() - timedelta(days=days)
    stale = Conversation.objects.filter(deleted_at__lt=cutoff)
    count = stale.count()
    # The rows go with their messages (CASCADE); their files are deleted here.
    names = attachments.stored_names(
        Attachment.objects.filter(message__conversation__in=stale)
    )
    stale.delete()
    attachments.delete_files(names)
    return count


def _snippet(text: str, query: str) -> str:
    at = text.lower().find(query.lower())
    if at < 0:
        return text[: SNIPPET_RADIUS * 2]
    start = max(0, at - SNIPPET_RADIUS)
    end = min(len(text), at + len(query) + SNIPPET_RADIUS)
    piece = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")


def list_conversations(
    user: User,
    *,
    query: str = "",
    archived: bool = False,
    cursor: str = "",
    limit: int = SIDEBAR_PAGE,
) -> SidebarPage:
    """Return a page of `user`'s live conversations, pinned first, then most recent
    first, starting after `cursor` (a SidebarPage's next_cursor; InvalidCursor if it
    is not one).

    With `query`, only those whose title or any visible message contains it
    (case-insensitive, chat.search); a match on message text carries a snippet around
    the newest matching message. Two queries at most, whatever the number of rows.
    """
    rows = Conversation.objects.filter(
        owner=user, deleted_at__isnull=True, archived=archived
    )
    if cursor:
        rows = rows.filter(_after_cursor(cursor))
    query = query.strip()
    if query:
        hits_here = search.matching_messages(query)
        newest_hit = (
            hits_here.filter(conversation=OuterRef("pk"))
            .order_by("-created_at", "-id")
            .values("id")[:1]
        )
        # The filter names the matching conversations without the per-row
        # subquery, which then runs only for the rows of the page.
        rows = rows.filter(
            Q(title__icontains=query) | Q(pk__in=hits_here.values("conversation_id"))
        ).annotate(hit_id=Subquery(newest_hit))
    page = list(rows.order_by("-pinned", "-updated_at", "-pk")[: limit + 1])
    next_cursor = _cursor_of(page[limit - 1]) if len(page) > limit else None
    conversations = page[:limit]
    if not query:
        return SidebarPage(
            [ConversationHit(conversation) for conversation in conversations],
            next_cursor,
        )
    # The annotation's column, which the model class does not declare.
    hit_of = {c.pk: getattr(c, "hit_id", None) for c in conversations}
    hit_ids = [hit for hit in hit_of.values() if hit is not None]
    texts = dict(Message.objects.filter(pk__in=hit_ids).values_list("pk", "content"))
    hits = []
    for conversation in conversations:
        snippet = None
        hit = hit_of[conversation.pk]
        if query.lower() not in conversation.title.lower() and hit:
            snippet = _snippet(texts.get(hit, ""), query)
        hits.append(ConversationHit(conversation, snippet))
    return SidebarPage(hits, next_cursor)


def visible_messages(conversation: Conversation) -> list[Message]:
    """Return the conversation's visible messages, oldest first, with their
    attachments and versions (three queries)."""
    messages = list(
        attachments.with_attachments(
            Message.objects.filter(conversation=conversation, superseded=False)
        ).order_by("created_at", "id")
    )
    versions.attach_versions(messages)
    return messages


def active_summaries(conversation: Conversation) -> list[Summary]:
    """Return the summaries whose covered turns are still visible (one query).

    A summary stops applying when the turn it ends with is hidden by an edit.
    """
    return list(
        Summary.objects.filter(
            conversation=conversation, covers_until__superseded=False
        ).order_by("created_at", "id")
    )


def all_messages(conversation: Conversation) -> list[Message]:
    """Return every message, superseded ones too, oldest first, with attachments
    and versions (for exports)."""
    messages = list(
        attachments.with_attachments(
            Message.objects.filter(conversation=conversation)
        ).order_by("created_at", "id")
    )
    versions.attach_versions(messages)
    return messages
