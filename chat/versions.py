"""An answer's versions: the replies to the same user message, oldest first.

Regenerate keeps the answer it replaces (superseded) and saves the new one with the
same `reply_to`; those replies are the versions the page flips between (‹ 2/3 ›).
Only the latest turn's answer can be flipped: an earlier turn's later messages were
written after one particular answer, so changing it under them would rewrite what the
model was told. Flipping marks the chosen version visible and the shown one
superseded; the next message then continues from the chosen one.

The ids ride on each message as `version_ids` (set here or by chat.turns) and reach
the page as Message `versions` (chat.serializers).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from chat import dbpool
from chat.models import Message


def attach_versions(messages: Iterable[Message]) -> None:
    """Set `version_ids` on each reply of `messages` (one query, whatever the count)."""
    replies = [
        m for m in messages if m.role == Message.Role.ASSISTANT and m.reply_to_id
    ]
    if not replies:
        return
    siblings: dict[int, list[int]] = {}
    rows = (
        Message.objects.filter(
            reply_to_id__in={m.reply_to_id for m in replies},
            role=Message.Role.ASSISTANT,
        )
        .order_by("id")
        .values_list("reply_to_id", "pk")
    )
    for reply_to_id, pk in rows:
        siblings.setdefault(reply_to_id, []).append(pk)
    for message in replies:
        message.version_ids = siblings.get(message.reply_to_id or 0, [message.pk])  # type: ignore[attr-defined]


def version_ids(message: Message) -> list[int]:
    """Return the ids of `message`'s versions (itself only when it has none)."""
    return getattr(message, "version_ids", None) or ([message.pk] if message.pk else [])


class SelectRefused(Exception):
    """A version could not be shown; `code` is the protocol's error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def select_version(
    conversation_id: str, owner_id: int, message_id: int
) -> tuple[Message, list[int]]:
    """Show version `message_id` of the latest answer instead of the one shown; return
    it (with `version_ids`) and the ids now hidden.

    Raises SelectRefused("not_found") unless it is a version of the answer to the
    conversation's last visible user message, ("busy") while a reply streams there.
    """
    with transaction.atomic():
        target = (
            Message.objects.select_for_update(of=("self",))
            .filter(
                pk=message_id,
                role=Message.Role.ASSISTANT,
                reply_to__isnull=False,
                conversation_id=conversation_id,
                conversation__owner_id=owner_id,
                conversation__deleted_at__isnull=True,
            )
            .first()
        )
        if target is None:
            raise SelectRefused("not_found")
        visible = Message.objects.filter(
            conversation_id=conversation_id, superseded=False
        )
        if visible.filter(status=Message.Status.STREAMING).exists():
            raise SelectRefused("busy")
        last_user = (
            visible.filter(role=Message.Role.USER).order_by("-id").values("pk").first()
        )
        if last_user is None or last_user["pk"] != target.reply_to_id:
            raise SelectRefused("not_found")
        shown = list(
            visible.filter(reply_to_id=target.reply_to_id)
            .exclude(pk=target.pk)
            .values_list("pk", flat=True)
        )
        visible.filter(pk__in=shown).update(superseded=True)
        if target.superseded:
            Message.objects.filter(pk=target.pk).update(superseded=False)
            target.superseded = False
    attach_versions([target])
    return target, shown


aselect_version = dbpool.in_writer(select_version)
