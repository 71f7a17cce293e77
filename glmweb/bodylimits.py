"""How large a request body may be, by kind, and the 413 that refuses a larger one.

One anonymous 100 MB multipart POST raised Daphne from 213 MB to 1.4 GB and froze
every stream for about 8 s: Twisted kept the body and then parsed the multipart in
memory on the event loop. The server now decides from the headers, before a byte of
the body is kept (glmweb/daphne_requests.py applies these rules under Daphne,
glmweb/body_limit_middleware.py under uvicorn):

- GLMWEB_MAX_UPLOAD_BYTES (plus FORM_OVERHEAD_BYTES for the other fields and the
  multipart framing, so a file the upload view would accept is never cut off here)
  for uploads: multipart/form-data, image/*, video/*, audio/* and
  application/octet-stream bodies;
- GLMWEB_MAX_JSON_BODY_BYTES for JSON (application/json, application/*+json and
  application/csp-report);
- GLMWEB_MAX_FORM_BODY_BYTES for everything else (url-encoded forms, text, no type).

A body over its limit is refused with 413 and a short zh-Hans/en text: at once when
Content-Length says so, or as soon as a chunked body passes the limit.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

# How long the rest of a refused body is read and dropped before the connection is
# cut, under either server (glmweb/daphne_requests.py, glmweb/body_limit_middleware.py).
DISCARD_SECONDS = 10.0

_UPLOAD_PREFIXES = ("multipart/form-data", "image/", "video/", "audio/")
_JSON_TYPES = ("application/json", "application/csp-report")
FORM_OVERHEAD_BYTES = 64 * 1024


def body_kind(content_type: str) -> str:
    """Return "upload", "json" or "form" for a request's Content-Type."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type.startswith(_UPLOAD_PREFIXES) or media_type == (
        "application/octet-stream"
    ):
        return "upload"
    if media_type in _JSON_TYPES or (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return "json"
    return "form"


def limit_for(content_type: str) -> int:
    """Return the largest body, in bytes, a request of this type may send."""
    kind = body_kind(content_type)
    if kind == "upload":
        return int(settings.GLMWEB_MAX_UPLOAD_BYTES) + FORM_OVERHEAD_BYTES
    if kind == "json":
        return int(settings.GLMWEB_MAX_JSON_BODY_BYTES)
    return int(settings.GLMWEB_MAX_FORM_BODY_BYTES)


def too_large_text(limit: int, language: str) -> str:
    """Return the 413's text: what happened and the limit, in `language`."""
    # Rounded down to a tenth (the upload limit's multipart allowance is not news).
    megabytes = f"{int(limit * 10 / (1024 * 1024)) / 10:g}"
    with translation.override(language):
        return gettext(
            "The request is too large (more than %(size)s MB). Nothing was saved."
        ) % {"size": megabytes}


def too_large_parts(limit: int, language: str) -> tuple[list[tuple[str, str]], bytes]:
    """Return the 413's headers and body (both servers send these; the connection
    closes after it)."""
    body = (too_large_text(limit, language) + "\n").encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Content-Language", language),
        ("X-Content-Type-Options", "nosniff"),
        ("Connection", "close"),
    ]
    return headers, body


def too_large_response(limit: int, language: str) -> bytes:
    """Return a whole HTTP/1.1 413 response that closes the connection."""
    headers, body = too_large_parts(limit, language)
    head = "HTTP/1.1 413 Content Too Large\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers
    )
    return (head + "\r\n").encode("ascii") + body
