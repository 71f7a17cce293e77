"""Which attachments a reply sends, and in what form (chat.history calls these).

- Only for a model with vision (chat.catalog.VisionLimits); a text model's context
  is text only, earlier images left out.
- Newest first: the message being answered keeps all its attachments (they were
  checked against the model when sent); earlier ones are sent again only while the
  request stays within the model's images per request and one video. The context
  budget then drops whole old rounds, images with them (each image is estimated at
  IMAGE_TOKENS, a video at VIDEO_TOKENS, erring high as chat.tokens does).
- The form is the official SDK's: an image is a data URL, which the client
  (glmweb.zhipu.payloads) cuts to bare base64 exactly as the SDK does; a video is
  sent as bare base64. A model that takes no base64 gets signed URLs under
  GLMWEB_PUBLIC_MEDIA_BASE_URL instead (public_url; served by
  chat.views.attachment_public), valid for GLMWEB_PUBLIC_MEDIA_URL_SECONDS.
- In a message, parts go video first (glm-4v-plus requires it), then images in
  the order they were attached, then the text.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from chat import attachments, catalog
from chat.models import Attachment, Message

IMAGE_TOKENS = 1600
VIDEO_TOKENS = 8000
_SIGNING_SALT = "chat.attachment.public"
# Set on a Message by load_media: [(attachment, url or base64)] it sends.
_MEDIA_ATTR = "_vision_media"


def public_url(attachment: Attachment) -> str:
    """Return a signed, expiring URL the platform can download `attachment` from."""
    token = signing.dumps(attachment.pk, salt=_SIGNING_SALT, compress=True)
    path = reverse("chat:attachment_public", args=[token])
    return f"{settings.GLMWEB_PUBLIC_MEDIA_BASE_URL}{path}"


def public_attachment_id(token: str) -> int | None:
    """Return the attachment id a public URL's token names, or None when it is
    forged or expired."""
    try:
        value = signing.loads(
            token, salt=_SIGNING_SALT, max_age=settings.GLMWEB_PUBLIC_MEDIA_URL_SECONDS
        )
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def _encoded(attachment: Attachment, base64_ok: bool) -> str:
    if not base64_ok:
        return public_url(attachment)
    with attachment.file.open("rb") as handle:
        data = base64.b64encode(handle.read()).decode("ascii")
    if attachment.kind == Attachment.Kind.VIDEO:
        return data
    return f"data:{attachment.content_type};base64,{data}"


def load_media(model_code: str, messages: Sequence[Message]) -> None:
    """Choose and read the attachments of `messages` (oldest first) to send; they are
    kept on each message for media_of(). One query, and only for a vision model.

    Reads files: call it where chat.dbpool's rule allows file I/O (the pool).
    """
    limits = catalog.describe(model_code).vision
    if limits is None or not limits.usable():
        return
    users = [m for m in messages if m.role == Message.Role.USER]
    if not users:
        return
    rows: dict[int, list[Attachment]] = {}
    for row in Attachment.objects.filter(message__in=users):
        rows.setdefault(row.message_id or 0, []).append(row)
    if not rows:
        return
    images_left, video_left = limits.images, 1 if limits.video else 0
    for index, message in enumerate(reversed(users)):
        chosen = []
        newest = index == 0
        # Latest first within a message too, then back in the order attached.
        for row in reversed(attachments.ordered(rows.get(message.pk, []))):
            if row.kind == Attachment.Kind.VIDEO:
                if video_left <= 0 and not newest:
                    continue
                video_left -= 1
            else:
                if images_left <= 0 and not newest:
                    continue
                images_left -= 1
            chosen.append((row, _encoded(row, limits.base64)))
        if chosen:
            setattr(message, _MEDIA_ATTR, chosen[::-1])


def media_of(message: Message) -> list[tuple[Attachment, str]]:
    """Return what load_media chose for `message` (nothing if it was not called)."""
    return getattr(message, _MEDIA_ATTR, [])


def media_tokens(message: Message) -> int:
    """Return the estimated token cost of `message`'s chosen attachments."""
    return sum(
        VIDEO_TOKENS if row.kind == Attachment.Kind.VIDEO else IMAGE_TOKENS
        for row, _url in media_of(message)
    )


def content(message: Message) -> str | list[dict[str, Any]]:
    """Return `message`'s API content: its text, or the multimodal parts."""
    media = media_of(message)
    if not media:
        return message.content
    videos = [
        {"type": "video_url", "video_url": {"url": url}}
        for row, url in media
        if row.kind == Attachment.Kind.VIDEO
    ]
    pictures = [
        {"type": "image_url", "image_url": {"url": url}}
        for row, url in media
        if row.kind == Attachment.Kind.IMAGE
    ]
    return [*videos, *pictures, {"type": "text", "text": message.content}]


def sent_ids(messages: Sequence[Message]) -> list[int]:
    """Return the ids of the attachments `messages` send, in order."""
    return [row.pk for message in messages for row, _url in media_of(message)]
