"""Copying a finished job's video and cover from the platform into Django storage.

The platform's result URLs expire, so this runs as soon as a poll sees SUCCESS. Each
file is downloaded to a temporary file (never held in memory), checked — the server's
content type must be one we accept, the size within its cap, and the first bytes must
really be an MP4 / a PNG, JPEG or WebP — and only then saved.

Every collection saves under names of its own (job, attempt and a fresh token): two
collections of one job can overlap (the sweep re-enqueues a poll whose collection looks
stalled), and the one that loses the race to mark the job succeeded deletes exactly
what it wrote, never the winner's file.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from glmweb import zhipu
from glmweb.zhipu import media
from media_jobs.models import VideoJob

# Some file hosts label everything as a generic binary; the bytes decide then.
_GENERIC = {"application/octet-stream", "binary/octet-stream"}
VIDEO_TYPES = frozenset({"video/mp4", *_GENERIC})
COVER_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/jpg", "image/webp", *_GENERIC}
)


@dataclass(frozen=True, slots=True)
class StoredMedia:
    video: str  # storage names
    cover: str  # "" when the platform sent no (usable) cover
    video_bytes: int


def sniff_video(head: bytes) -> bool:
    """Return whether `head` starts an ISO-BMFF file (MP4): its first box is ftyp."""
    return len(head) >= 12 and head[4:8] == b"ftyp"


def sniff_image(head: bytes) -> str | None:
    """Return the extension of a PNG / JPEG / WebP starting with `head`, else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _download(
    url: str,
    out: IO[bytes],
    max_bytes: int,
    types: frozenset[str],
    on_progress: Callable[[int], None] | None,
) -> int:
    info = media.download_media(
        url,
        out,
        max_bytes=max_bytes,
        content_types=types,
        timeout=settings.VIDEO_DOWNLOAD_TIMEOUT,
        connect_timeout=settings.ZHIPUAI_CONNECT_TIMEOUT,
        on_progress=on_progress,
    )
    out.seek(0)
    return info.size


def _save(name: str, content: IO[bytes]) -> str:
    # The name is this collection's own; storage adds a suffix should it exist.
    return default_storage.save(name, File(content, name=name))


def collect_media(
    job: VideoJob,
    video_url: str,
    cover_url: str | None,
    on_progress: Callable[[int], None] | None = None,
) -> StoredMedia:
    """Download the video (required) and cover (optional) of `job` into storage,
    under names no other collection uses.

    `on_progress` is called as bytes arrive (see media.download_media); what it raises
    ends the collection and propagates, with nothing left in storage. Raises the
    client's GLMError: transient ones for network trouble, permanent ones
    (MediaRejectedError, APINotFoundError) for a wrong type, too large a file, or an
    expired URL. A cover that is permanently unusable is skipped, not fatal.
    """
    stem = f"videos/{job.owner_id}/{job.pk}-{job.request_id}-{secrets.token_hex(4)}"
    with tempfile.TemporaryFile() as tmp:
        size = _download(
            video_url, tmp, settings.VIDEO_MAX_BYTES, VIDEO_TYPES, on_progress
        )
        if not sniff_video(tmp.read(16)):
            raise media.MediaRejectedError("the video file is not an MP4")
        tmp.seek(0)
        video = _save(f"{stem}.mp4", tmp)
    try:
        cover = _collect_cover(stem, cover_url, on_progress)
    except BaseException:
        delete_files(video)
        raise
    return StoredMedia(video=video, cover=cover, video_bytes=size)


def _collect_cover(
    stem: str, cover_url: str | None, on_progress: Callable[[int], None] | None
) -> str:
    """Return the storage name of the saved cover, "" when there is none to keep."""
    if not cover_url:
        return ""
    with tempfile.TemporaryFile() as tmp:
        try:
            _download(
                cover_url, tmp, settings.VIDEO_COVER_MAX_BYTES, COVER_TYPES, on_progress
            )
        except zhipu.GLMRejected:
            return ""
        extension = sniff_image(tmp.read(16))
        if extension is None:
            return ""
        tmp.seek(0)
        return _save(f"{stem}-cover.{extension}", tmp)


def delete_files(*names: str) -> None:
    """Delete the named files from storage; missing ones are fine."""
    for name in names:
        if name:
            default_storage.delete(name)
