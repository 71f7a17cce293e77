"""An incremental Server-Sent Events reader, fed raw bytes as they come off the socket.

Pure: no I/O and no JSON, so the sync and async faces share it and tests can feed it a
reply split at every byte. It follows the WHATWG event-stream rules: lines end in LF,
CRLF or CR (also when a CRLF pair straddles two reads); `:` lines are comments
(keep-alives); `data:` lines of one event are joined with LF; `event:`, `id:` and
`retry:` are honoured; a blank line dispatches; an event cut off by the end of the
stream is discarded.

Why bytes, not text: the reader splits on the LF and CR bytes, which never occur inside
a multi-byte UTF-8 sequence, so a complete line is always complete UTF-8 even when a
read ended halfway through a character. Keeping the unfinished line as bytes does the
job of an incremental decoder, and handing `data` to orjson as bytes skips a decode and
a copy per event on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass

_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class SSEEvent:
    """One dispatched event: `data` is the joined data lines, still UTF-8 bytes."""

    data: bytes
    event: str = "message"
    id: str = ""


class SSEDecoder:
    """Turn chunks of an event stream into `SSEEvent`s; feed it every read in order."""

    __slots__ = (
        "_pending",
        "_data",
        "_event",
        "_last_id",
        "_after_cr",
        "_started",
        "retry",
    )

    def __init__(self) -> None:
        self._pending = b""  # the unfinished last line of the previous read
        self._data: list[bytes] = []
        self._event = ""
        self._last_id = ""
        self._after_cr = (
            False  # the previous read ended in CR: a leading LF is its pair
        )
        self._started = False
        self.retry: int | None = None  # the server's reconnection delay in ms, if sent

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Return the events completed by `chunk` (often one, possibly none)."""
        if self._after_cr:
            self._after_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._after_cr = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._pending:
            chunk = self._pending + chunk
        if not self._started:
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._pending = chunk  # wait: this may still become the BOM
                return []
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        lines = chunk.split(b"\n")
        self._pending = lines.pop()
        events: list[SSEEvent] = []
        data = self._data
        for line in lines:
            if line[:6] == b"data: ":  # nearly every line: test it first
                data.append(line[6:])
            elif not line:
                if data:
                    payload = data[0] if len(data) == 1 else b"\n".join(data)
                    data.clear()
                    events.append(
                        SSEEvent(payload, self._event or "message", self._last_id)
                    )
                self._event = ""
            else:
                self._field(line)
        return events

    @property
    def has_unfinished_event(self) -> bool:
        """Return whether bytes of an event are waiting for their blank line."""
        return bool(self._data or self._pending)

    def _field(self, line: bytes) -> None:
        colon = line.find(b":")
        if colon == 0:
            return  # a comment, e.g. a keep-alive ": ping"
        if colon < 0:
            name, value = line, b""
        else:
            name, value = line[:colon], line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\0" not in value:
                self._last_id = value.decode("utf-8", "replace")
        elif name == b"retry":
            if value.isdigit():
                self.retry = int(value)
        # Any other field name is ignored, as the standard requires.
