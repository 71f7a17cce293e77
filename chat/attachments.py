"""Attachments: an upload checked and stored, claimed by a message, copied, purged.

The rules, in one place for every edge (the upload view, the websocket's
message.send through chat.turns, the purge task):

- An upload is checked from its bytes, whatever its name or the browser's content
  type claims: an MP4/MOV (`ftyp` box first) goes to glmweb.videos, anything else to
  glmweb.images (JPEG, PNG, WebP, GIF's first frame; EXIF orientation applied,
  metadata dropped, re-encoded, scaled to GLMWEB_VISION_MAX_SIDE and
  GLMWEB_VISION_MAX_IMAGE_BYTES). A refused file stores nothing.
- The same bytes uploaded again by the same owner are stored once: an unsent row with
  that sha256 is returned as it is, otherwise the new row shares the stored file. A
  file is deleted from storage with the last row naming it.
- A message.send may name only its sender's own unsent attachments (another user's
  id is refused exactly like a missing one), within the conversation model's limits
  (chat.catalog.VisionLimits). A model without vision is refused with a clear
  message, never switched silently: the page offers attaching only where the model
  can take it, and the text and attachments stay in the composer.
- Unsent attachments older than GLMWEB_UNSENT_ATTACHMENT_HOURS are deleted (celery
  beat, chat.tasks.purge_unsent_attachments); purging a deleted conversation deletes
  its attachments' files (chat.conversations).
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import IO, TYPE_CHECKING, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image

from chat import catalog
from chat.models import Attachment, Message
from glmweb import images, videos
from glmweb.accounts.requests import User
from glmweb.rejections import RejectedUpload

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise
else:
    _StrOrPromise = str

IMAGE_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
THUMBNAIL_SIDE = 320
NAME_MAX = 200
DOWNLOAD_NAME_UNSAFE = re.compile(r'["\\/:;*?<>|]+')


class UploadRejected(Exception):
    """An upload is not an attachment we take; `code` is stable, the wording comes
    from glmweb.images / glmweb.videos in the user's language."""

    def __init__(self, error: RejectedUpload) -> None:
        super().__init__(error.code)
        self.code = error.code
        self.error = error

    def user_message(self, language: str) -> str:
        """Return why, in `language` (zh-hans or en)."""
        return self.error.user_message(language)


class AttachmentRefused(Exception):
    """A message may not carry these attachments; `code` is the protocol's error code
    (`attachment_not_found` or `attachment_refused`), `reason` says why."""

    def __init__(self, code: str, reason: ValidationError | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.reason = reason


class AttachmentDict(TypedDict):
    id: int
    kind: str
    name: str
    content_type: str
    width: int | None
    height: int | None
    bytes: int
    duration: float | None
    url: str
    thumbnail_url: str


def attachment_dict(attachment: Attachment) -> AttachmentDict:
    """Return an attachment as the upload view, the websocket and the API send it;
    its URLs are the owner-only file view's."""
    url = reverse("chat:attachment_file", args=[attachment.pk])
    thumbnail = (
        reverse("chat:attachment_thumbnail", args=[attachment.pk])
        if attachment.thumbnail
        else url
    )
    return {
        "id": attachment.pk,
        "kind": attachment.kind,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "width": attachment.width,
        "height": attachment.height,
        "bytes": attachment.bytes,
        "duration": attachment.duration,
        "url": url,
        "thumbnail_url": thumbnail,
    }


def with_attachments(rows: QuerySet[Message]) -> QuerySet[Message]:
    """Return `rows` with their attachments loaded in one more query, where
    message_dict finds them (`attachment_rows`)."""
    return rows.prefetch_related(
        Prefetch(
            "attachments",
            queryset=Attachment.objects.order_by("position", "id"),
            to_attr="attachment_rows",
        )
    )


def rows_of(message: Message) -> list[Attachment]:
    """Return a user message's attachments in order: those with_attachments() or a
    send loaded, else one query. A reply has none."""
    if message.role != Message.Role.USER:
        return []
    rows = getattr(message, "attachment_rows", None)
    if rows is None:
        rows = list(message.attachments.order_by("position", "id"))
    return rows


def ordered(rows: Iterable[Attachment]) -> list[Attachment]:
    """Return attachments in their message's order (the order the frame named)."""
    return sorted(rows, key=lambda a: (a.position, a.pk))


# --- Uploading ---------------------------------------------------------------------


def _clean_name(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable()).strip()[:NAME_MAX]


def download_name(attachment: Attachment, stored_name: str) -> str:
    """Return the name a served file is offered under: the upload's cleaned name with
    the extension of what is actually stored (`stored_name`), so a file named
    "x.html" is never saved as HTML, whatever bytes it held."""
    extension = (
        "." + stored_name.rpartition(".")[2].lower() if "." in stored_name else ""
    )
    stem = attachment.name.rpartition(".")[0] or attachment.name
    # Quotes, backslashes and separators are legal once escaped, but some clients
    # mis-split them; a download name needs none of them.
    stem = DOWNLOAD_NAME_UNSAFE.sub("_", stem).strip(" ._")
    return f"{stem or attachment.kind}{extension}"


def _thumbnail(image: images.NormalisedImage) -> bytes:
    with Image.open(io.BytesIO(image.data)) as picture:
        picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if picture.mode == "RGBA":
            picture.save(out, format="PNG", optimize=True)
        else:
            picture.convert("RGB").save(out, format="JPEG", quality=85)
        return out.getvalue()


def _checked(upload: IO[bytes]) -> Attachment:
    """Return an unsaved Attachment with its bytes in `_data` (and `_thumb`)."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    attachment = Attachment()
    try:
        if videos.looks_like_video(head):
            video = videos.check_video(upload)
            attachment.kind = Attachment.Kind.VIDEO
            attachment.content_type = video.content_type
            attachment.duration = round(video.duration, 3)
            data, thumb, extension = video.data, b"", video.extension
        else:
            image = images.normalise_image(
                upload,
                max_bytes=settings.GLMWEB_MAX_UPLOAD_BYTES,
                formats=IMAGE_FORMATS,
                max_side=settings.GLMWEB_VISION_MAX_SIDE,
                max_output_bytes=settings.GLMWEB_VISION_MAX_IMAGE_BYTES,
            )
            attachment.kind = Attachment.Kind.IMAGE
            attachment.content_type = image.content_type
            attachment.width, attachment.height = image.width, image.height
            data, thumb, extension = image.data, _thumbnail(image), image.extension
    except (images.ImageRejectedError, videos.VideoRejectedError) as error:
        raise UploadRejected(error) from None
    attachment.bytes = len(data)
    attachment.sha256 = hashlib.sha256(data).hexdigest()
    attachment._data = data  # type: ignore[attr-defined]
    attachment._thumb = thumb  # type: ignore[attr-defined]
    attachment._extension = extension  # type: ignore[attr-defined]
    return attachment


def store_upload(owner: User, upload: IO[bytes], name: str) -> Attachment:
    """Check and normalise `upload`, store it for `owner`, and return its row.

    Raises UploadRejected (nothing stored). Same bytes as one of the owner's
    attachments: an unsent one is returned as it is; a sent one's file is shared.
    """
    attachment = _checked(upload)
    attachment.owner = owner
    attachment.name = _clean_name(name)
    same = Attachment.objects.filter(owner=owner, sha256=attachment.sha256)
    unsent = same.filter(message__isnull=True).first()
    if unsent is not None:
        return unsent
    twin = same.first()
    if twin is not None:
        attachment.file.name = twin.file.name
        attachment.thumbnail.name = twin.thumbnail.name
        attachment.save()
        return attachment
    stem = uuid.uuid4().hex
    data: bytes = attachment._data  # type: ignore[attr-defined]
    thumb: bytes = attachment._thumb  # type: ignore[attr-defined]
    extension: str = attachment._extension  # type: ignore[attr-defined]
    attachment.file.save(f"{stem}{extension}", ContentFile(data), save=False)
    try:
        if thumb:
            thumb_ext = ".png" if thumb[:4] == b"\x89PNG" else ".jpg"
            attachment.thumbnail.save(
                f"{stem}-thumb{thumb_ext}", ContentFile(thumb), save=False
            )
        attachment.save()
    except BaseException:
        delete_files([attachment.file.name, attachment.thumbnail.name])
        raise
    return attachment


def get_owned(owner: User, attachment_id: int) -> Attachment:
    """Return `owner`'s attachment; Attachment.DoesNotExist for anyone else's."""
    return Attachment.objects.get(pk=attachment_id, owner=owner)


def duplicate(attachment: Attachment) -> Attachment:
    """Return a new unsent attachment sharing `attachment`'s file (send it again after
    a failed reply: a sent attachment belongs to its message)."""
    copy = Attachment.objects.filter(
        owner_id=attachment.owner_id, sha256=attachment.sha256, message__isnull=True
    ).first()
    if copy is not None:
        return copy
    attachment.pk = None
    attachment.message = None
    attachment.created_at = timezone.now()
    attachment.save(force_insert=True)
    return attachment


def discard(attachment: Attachment) -> bool:
    """Delete an unsent attachment (removed from the composer); False when it was sent
    already (then it stays with its message)."""
    with transaction.atomic():
        deleted, _rows = Attachment.objects.filter(
            pk=attachment.pk, message__isnull=True
        ).delete()
    if deleted:
        delete_files([attachment.file.name, attachment.thumbnail.name])
    return bool(deleted)


# --- Sending -----------------------------------------------------------------------


def _refused(message: _StrOrPromise, **params: object) -> AttachmentRefused:
    return AttachmentRefused(
        "attachment_refused", ValidationError(message, params=params)
    )


def check_for_model(model_code: str, rows: Sequence[Attachment]) -> None:
    """Raise AttachmentRefused unless `model_code` can take `rows` in one message."""
    model = catalog.describe(model_code)
    limits = model.vision
    label = model.label
    if limits is None:
        raise _refused(
            _(
                "%(model)s cannot see images or videos. Choose a vision model "
                "(such as GLM-4V-Plus) and send again."
            ),
            model=label,
        )
    if not limits.usable():
        raise _refused(
            _(
                "%(model)s takes images only as links the platform downloads, and "
                "this server has no public address for them. Choose another vision "
                "model."
            ),
            model=label,
        )
    pictures = sum(1 for row in rows if row.kind == Attachment.Kind.IMAGE)
    clips = len(rows) - pictures
    if pictures > limits.images:
        raise _refused(
            _("%(model)s takes at most %(limit)s images in a message."),
            model=label,
            limit=limits.images,
        )
    if clips and not limits.video:
        raise _refused(_("%(model)s cannot watch videos."), model=label)
    if clips > 1:
        raise _refused(_("Attach at most one video to a message."))


def claim(
    owner_id: int, ids: Sequence[int], model_code: str, message: Message
) -> list[Attachment]:
    """Link the owner's unsent attachments `ids` to `message`, in that order; return
    them. Call inside the send's transaction (a refusal rolls it back).

    Raises AttachmentRefused("attachment_not_found") when an id is not the owner's
    unsent attachment (missing, someone else's, or sent already: the same refusal),
    AttachmentRefused("attachment_refused") when the model cannot take them.
    """
    rows = list(
        Attachment.objects.select_for_update().filter(
            pk__in=ids, owner_id=owner_id, message__isnull=True
        )
    )
    if len(rows) != len(set(ids)):
        raise AttachmentRefused("attachment_not_found")
    check_for_model(model_code, rows)
    order = list(dict.fromkeys(ids))
    # One UPDATE for all: the message, and each row's place in the frame's order.
    Attachment.objects.filter(pk__in=order).update(
        message=message,
        position=Case(
            *(When(pk=pk, then=Value(index)) for index, pk in enumerate(order)),
            output_field=IntegerField(),
        ),
    )
    by_id = {row.pk: row for row in rows}
    claimed = [by_id[pk] for pk in order]
    for index, row in enumerate(claimed):
        row.message = message
        row.position = index
    return claimed


def copy_to(source: Message, target: Message) -> list[Attachment]:
    """Give `target` (an edit's new message) copies of `source`'s attachments (the
    files are shared); return them in order."""
    rows = list(Attachment.objects.filter(message=source).order_by("position", "id"))
    for row in rows:
        row.pk = None
        row.message = target
    if rows:
        Attachment.objects.bulk_create(rows)
    return rows


# --- Deleting ----------------------------------------------------------------------


def stored_names(rows: QuerySet[Attachment]) -> set[str]:
    """Return the storage names (files and thumbnails) of `rows`."""
    names: set[str] = set()
    for file, thumbnail in rows.values_list("file", "thumbnail"):
        names.update(name for name in (file, thumbnail) if name)
    return names


def delete_files(names: Iterable[str]) -> None:
    """Delete from storage the named files no attachment row names any more."""
    names = {name for name in names if name}
    if not names:
        return
    still = set(
        Attachment.objects.filter(file__in=names).values_list("file", flat=True)
    )
    still |= set(
        Attachment.objects.filter(thumbnail__in=names).values_list(
            "thumbnail", flat=True
        )
    )
    for name in names - still:
        default_storage.delete(name)


def purge_unsent(*, older_than_hours: float | None = None) -> int:
    """Delete unsent attachments older than GLMWEB_UNSENT_ATTACHMENT_HOURS and their
    files; return how many rows went."""
    hours = (
        settings.GLMWEB_UNSENT_ATTACHMENT_HOURS
        if older_than_hours is None
        else older_than_hours
    )
    stale = Attachment.objects.filter(
        message__isnull=True, created_at__lt=timezone.now() - timedelta(hours=hours)
    )
    names = stored_names(stale)
    count, _rows = stale.delete()
    delete_files(names)
    return count
