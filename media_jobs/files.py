"""Sending a job's stored files to their owner, with single byte ranges so a <video>
element can seek (browsers ask for `Range: bytes=N-`)."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from typing import IO

from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotFound,
    StreamingHttpResponse,
)
from django.utils.translation import gettext as _

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """Return (first, last) for a single satisfiable range, else None."""
    match = _RANGE.match(header.strip())
    if not match or not any(match.groups()):
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:
        start, end = max(0, size - int(last)), size - 1
    if start > end or start >= size:
        return None
    return start, end


def _read_span(handle: IO[bytes], length: int) -> Iterator[bytes]:
    """Yield `length` bytes from `handle` in chunks, then close it."""
    try:
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def serve_file(
    request: HttpRequest, field: FieldFile, *, download_name: str, attachment: bool
) -> HttpResponseBase:
    """Return `field`'s file, honouring one Range; the caller checked ownership.

    A row naming a file that storage no longer has (removed by hand, a lost volume)
    answers 404 with a sentence saying so, never a server error.
    """
    content_type = (
        mimetypes.guess_type(field.name or "")[0] or "application/octet-stream"
    )
    try:
        size = field.size
        handle = field.open("rb")
    except FileNotFoundError:
        return HttpResponseNotFound(
            _(
                "This file is no longer stored on the server. Delete this video and "
                "create it again."
            ),
            content_type="text/plain; charset=utf-8",
        )
    header = request.headers.get("Range")
    span = _byte_range(header, size) if header else None
    if header and span is None:
        handle.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    response: HttpResponseBase
    if span is None:
        response = FileResponse(
            handle,
            content_type=content_type,
            as_attachment=attachment,
            filename=download_name,
        )
    else:
        start, end = span
        handle.seek(start)
        response = StreamingHttpResponse(
            _read_span(handle, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        disposition = "attachment" if attachment else "inline"
        response["Content-Disposition"] = f'{disposition}; filename="{download_name}"'
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    return response
