"""Downloading the media a finished platform task points at (videos, covers).

Result URLs are on the platform's file host, not under ZHIPUAI_BASE_URL, and they
expire, so callers copy the bytes as soon as a task succeeds. The request goes out with
no Authorization header (a file host must never see the API key) on a short-lived
client of httpx's own transport, following redirects only to the platform's file
hosts on public addresses (fetchguard: GLMWEB_MEDIA_HOSTS, checked at every hop
against the address connected to).

    info = media.download_media(url, out, max_bytes=..., content_types={"video/mp4"})

Errors are the client's own tree: APIConnectionError / APITimeoutError for network
failures (transient), APIInternalError / APIReachLimitError for 5xx / 429 (transient),
APINotFoundError for 403/404/410 (an expired or unknown URL: permanent), and
MediaRejectedError (permanent) when the type is not one of `content_types` or the body
is larger than `max_bytes`, and fetchguard.MediaUnfetchableError (permanent) when the
URL or a redirect leads off the allowlist or to a non-public address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import httpx

from glmweb.zhipu import fetchguard, transport
from glmweb.zhipu.errors import (
    APINotFoundError,
    GLMError,
    GLMRejected,
    error_class_for_status,
)


class MediaRejectedError(GLMRejected):
    """The file is not of an accepted type, or larger than allowed."""

    kind = "bad_media"


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What was written: the server's content type (parameters cut) and the size."""

    content_type: str
    size: int


def download_media(
    url: str,
    out: IO[bytes],
    *,
    max_bytes: int,
    content_types: frozenset[str] | set[str],
    timeout: float = 120.0,
    connect_timeout: float = 8.0,
    on_progress: Callable[[int], None] | None = None,
    policy: fetchguard.FetchPolicy | None = None,
) -> MediaInfo:
    """Write the body at `url` to `out` and return its MediaInfo; raise GLMError.

    `content_types` are the accepted media types, lower case; the Content-Length (when
    sent) and the bytes actually read are both held to `max_bytes`. `timeout` bounds
    each read, not the whole download, so a slow host may take far longer; a caller
    that must know bytes are still flowing passes `on_progress`, called with the size
    so far after every chunk (whatever it raises ends the download and propagates).
    `policy` is where it may connect (default: from settings, fetchguard).
    """
    if not url.startswith(("https://", "http://")):
        raise MediaRejectedError(f"not an http(s) URL: {url[:60]!r}")
    timeouts = httpx.Timeout(timeout, connect=connect_timeout)
    policy = policy or fetchguard.FetchPolicy.from_settings()
    try:
        with (
            fetchguard.guarded_client(policy, timeouts) as client,
            client.stream("GET", url) as response,
        ):
            _check_response(response, max_bytes, content_types)
            size = 0
            # As the network delivers (up to 64 KiB a read), not regrouped into
            # fixed sizes: progress must be reported while a slow host drips.
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise MediaRejectedError(f"larger than {max_bytes} bytes")
                out.write(chunk)
                if on_progress is not None:
                    on_progress(size)
            content_type = _media_type(response)
    except GLMError:
        raise
    except transport.SYNC_ERRORS as exc:
        raise transport.request_error(exc, None) from exc
    return MediaInfo(content_type=content_type, size=size)


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _check_response(
    response: httpx.Response, max_bytes: int, content_types: frozenset[str] | set[str]
) -> None:
    status = response.status_code
    if status in (403, 404, 410):
        # File hosts answer 403 for an expired signed URL.
        raise APINotFoundError(f"HTTP {status} for the media URL", status=status)
    if status >= 400:
        raise error_class_for_status(status)(
            f"HTTP {status} for the media URL", status=status
        )
    content_type = _media_type(response)
    if content_type not in content_types:
        raise MediaRejectedError(f"unexpected content type {content_type!r}")
    length = response.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise MediaRejectedError(f"{length} bytes, more than {max_bytes}")
