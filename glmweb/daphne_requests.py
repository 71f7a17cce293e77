"""Daphne's HTTP request, bounded: bodies are never parsed on the event loop and never
kept past their limit (glmweb.bodylimits says how large each kind may be).

Twisted keeps a request's whole body (in memory under 100 kB, else in a temporary
file) before the application sees a byte, and with `parsePOSTFormSubmission` on (its
default, and Daphne's) it then parses url-encoded and multipart bodies in memory, on
the reactor: the loop that carries every stream. Django parses the body again anyway
(files streamed to disk, in a worker thread), so here:

- Twisted's parse is off;
- the limit is decided when the headers are in (`gotLength`): a Content-Length over
  it is answered 413 at once, before the body is read; a chunked body is counted as
  it comes and answered 413 as soon as it passes the limit;
- the rest of a refused body is read and dropped (not kept), so the client gets to
  read the 413 instead of a reset, and the connection then closes; a client that
  keeps sending for bodylimits.DISCARD_SECONDS is cut off.

`install()` (glmweb.serve) makes Daphne build these requests.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from daphne import http_protocol
from django.conf import settings

from glmweb import bodylimits, languages

logger = logging.getLogger(__name__)


class _Discard:
    """Where the rest of a refused body goes: nowhere."""

    closed = False

    def write(self, data: bytes) -> None:
        pass

    def tell(self) -> int:
        return 0

    def seek(self, *args: Any) -> int:
        return 0

    def read(self, *args: Any) -> bytes:
        return b""

    def close(self) -> None:
        self.closed = True


class BoundedRequest(http_protocol.WebRequest):
    """Daphne's WebRequest with Twisted's form parsing off and a body limit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parsePOSTFormSubmission = False
        self._body_limit = 0
        self._body_size = 0
        self._refused = False

    def gotLength(self, length: int | None) -> None:
        content_type = self._header(b"content-type")
        self._body_limit = bodylimits.limit_for(content_type)
        if length is not None and length > self._body_limit:
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return
        self._body_size += len(data)
        if self._body_size > self._body_limit:  # a chunked body grew past it
            self.content.close()
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self._refused:
            # The refused body is over (and dropped): the 413 is out; close.
            self.channel.loseConnection()
            return
        super().requestReceived(command, path, version)

    def _header(self, name: bytes) -> str:
        values = self.requestHeaders.getRawHeaders(name)
        return values[0].decode("latin-1") if values else ""

    def _refuse(self) -> None:
        self._refused = True
        self.content = _Discard()
        cookie = self.received_cookies.get(settings.LANGUAGE_COOKIE_NAME.encode(), b"")
        language = languages.choose_language(
            cookie.decode("latin-1"), self._header(b"accept-language")
        )
        logger.info(
            "refused a request body over %d bytes from %s",
            self._body_limit,
            self.client_addr,
        )
        transport = self.channel.transport
        transport.write(bodylimits.too_large_response(self._body_limit, language))
        from twisted.internet import reactor

        # Twisted types `reactor` as a module, not the IReactorTime it provides.
        cast(Any, reactor).callLater(bodylimits.DISCARD_SECONDS, _abort, transport)


def _abort(transport: Any) -> None:
    if transport.connected:
        transport.abortConnection()


class BoundedHTTPFactory(http_protocol.HTTPFactory):
    """Daphne's HTTPFactory, building BoundedRequests."""

    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        if protocol is not None:
            protocol.requestFactory = BoundedRequest
        return protocol


def install() -> None:
    """Make Daphne's server build bounded requests (call before it starts)."""
    from daphne import server

    server.HTTPFactory = BoundedHTTPFactory
