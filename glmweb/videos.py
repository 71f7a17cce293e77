"""The one video checker: a short MP4/MOV a user attaches for a vision model.

Videos are not re-encoded (there is no video codec here): the file is kept as it came,
once its container proves to be an ISO base media file (MP4, MOV: an `ftyp` box
first) whose `moov/mvhd` header states a duration within the limit. Checked, in order:

1. at most `max_bytes` (default settings.GLMWEB_VIDEO_MAX_BYTES), before any parsing;
2. the first box is `ftyp` (anything else: "not_a_video");
3. a `moov` box with an `mvhd` header is found among the top-level boxes, and the box
   sizes stay within the file ("corrupt" otherwise);
4. the duration is at most `max_seconds` (default settings.GLMWEB_VIDEO_MAX_SECONDS).

Anything else raises `VideoRejectedError`, whose `code` is stable and whose
`user_message(language)` says what was wrong in Simplified Chinese ("zh*") or English,
like every glmweb.rejections.RejectedUpload.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import IO

from django.conf import settings

from glmweb.images import human_size
from glmweb.rejections import RejectedUpload

# code -> (zh-hans, en)
_MESSAGES: dict[str, tuple[str, str]] = {
    "too_large": (
        "视频文件太大（{size}），上限为 {limit}。请剪短或压缩后再上传。",
        "The video file is too large ({size}); the limit is {limit}. "
        "Please trim or compress it.",
    ),
    "not_a_video": (
        "无法识别该视频。请上传 MP4 或 MOV 格式的视频。",
        "This video cannot be read. Please upload an MP4 or MOV video.",
    ),
    "corrupt": (
        "视频文件已损坏或不完整。请重新导出后再上传。",
        "The video file is damaged or incomplete. Please export it again.",
    ),
    "too_long": (
        "视频太长（{seconds} 秒），最长 {limit} 秒。请剪短后再上传。",
        "The video is too long ({seconds} s); at most {limit} s. Please trim it.",
    ),
}


class VideoRejectedError(RejectedUpload):
    """The upload is not a video we accept; `code` says why (see the module doc)."""

    wording = _MESSAGES


@dataclass(frozen=True, slots=True)
class CheckedVideo:
    data: bytes
    content_type: str  # "video/mp4" or "video/quicktime"
    duration: float  # seconds

    @property
    def extension(self) -> str:
        """Return the file extension for `content_type`, with its dot."""
        return ".mov" if self.content_type == "video/quicktime" else ".mp4"


def looks_like_video(head: bytes) -> bool:
    """Return whether `head` (the first bytes of a file) starts an MP4/MOV file."""
    return len(head) >= 8 and head[4:8] == b"ftyp"


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """Return (type, body start, box end) of the boxes in data[start:end]."""
    boxes = []
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        header = 8
        if size == 1:
            if at + 16 > end:
                raise VideoRejectedError("corrupt")
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
            header = 16
        elif size == 0:  # the box runs to the end of the file
            size = end - at
        if size < header or at + size > end:
            raise VideoRejectedError("corrupt")
        boxes.append((kind, at + header, at + size))
        at += size
    return boxes


def _duration(data: bytes) -> float:
    top = _boxes(data, 0, len(data))
    if not top or top[0][0] != b"ftyp":
        raise VideoRejectedError("not_a_video")
    moov = next((box for box in top if box[0] == b"moov"), None)
    if moov is None:
        raise VideoRejectedError("corrupt")
    mvhd = next((b for b in _boxes(data, moov[1], moov[2]) if b[0] == b"mvhd"), None)
    if mvhd is None:
        raise VideoRejectedError("corrupt")
    body = data[mvhd[1] : mvhd[2]]
    try:
        if body[:1] == b"\x01":  # version 1: 64-bit times
            timescale, duration = struct.unpack(">IQ", body[20:32])
        else:
            timescale, duration = struct.unpack(">II", body[12:20])
    except struct.error:
        raise VideoRejectedError("corrupt") from None
    if timescale == 0:
        raise VideoRejectedError("corrupt")
    return duration / timescale


def check_video(
    source: bytes | IO[bytes],
    *,
    max_bytes: int | None = None,
    max_seconds: float | None = None,
) -> CheckedVideo:
    """Return `source` checked as a short MP4/MOV video; raise VideoRejectedError."""
    max_bytes = settings.GLMWEB_VIDEO_MAX_BYTES if max_bytes is None else max_bytes
    max_seconds = (
        settings.GLMWEB_VIDEO_MAX_SECONDS if max_seconds is None else max_seconds
    )
    if isinstance(source, bytes):
        data = source
    else:
        size = getattr(source, "size", None)
        if isinstance(size, int) and size > max_bytes:
            raise VideoRejectedError(
                "too_large", size=human_size(size), limit=human_size(max_bytes)
            )
        source.seek(0)
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise VideoRejectedError(
            "too_large", size=human_size(len(data)), limit=human_size(max_bytes)
        )
    if not looks_like_video(data[:8]):
        raise VideoRejectedError("not_a_video")
    duration = _duration(data)
    if duration > max_seconds:
        raise VideoRejectedError(
            "too_long", seconds=f"{duration:.0f}", limit=f"{max_seconds:g}"
        )
    brand = data[8:12]
    content_type = "video/quicktime" if brand == b"qt  " else "video/mp4"
    return CheckedVideo(data=data, content_type=content_type, duration=duration)
