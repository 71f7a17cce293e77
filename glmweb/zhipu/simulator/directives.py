"""`[[sim:key=value,...]]` directives: test faults chosen by the text a user sends.

Only the last user message counts, so a directive in the history does not fire again on
every later turn. Several directives may appear; later keys win. docs/simulator.md lists
every key and what it proves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import CODES, DEFAULT_CODE_FOR_STATUS, PlatformError, platform_error

DIRECTIVE_RE = re.compile(r"\[\[sim:([^\]]*)\]\]")

# key -> value type; "flag" keys take no value (a value of 0/false turns them off).
KEYS: dict[str, str] = {
    "status": "int",
    "code": "str",
    "retry_after": "int",
    "fail_times": "int",
    "drop_after": "int",
    "stall_after": "int",
    "stall_s": "float",
    "malformed_after": "int",
    "error_event": "int",  # bare `error_event` means after 2 chunks
    "sensitive": "flag",
    "tokens": "int",
    "rate": "float",
    "stamp": "flag",
    "crlf": "flag",
    "keepalive": "flag",
    "sse_fields": "flag",
    "split": "int",
    "end_after": "int",
    "no_done": "flag",
    "video_fail": "flag",
    "ready_after": "float",
    "media_drip_s": "float",
    "echo": "flag",
    "search_echo": "flag",  # web search results are the user's lines (websearch.py)
    "hang_up": "flag",
    "finish": "str",
    "tool": "str",  # glm-4-assistant: run this tool first (assistant.TOOLS)
}
# The finish_reason values `finish=` may force (zhipu-api.md §2.3).
FINISH_REASONS = {
    "stop",
    "length",
    "tool_calls",
    "sensitive",
    "network_error",
    "model_context_window_exceeded",
}
# The tools `tool=` may make an assistant call (zhipu-api.md §9).
TOOLS = {"web_browser", "code_interpreter", "drawing_tool"}
FLAG_OFF = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Directives:
    text: str = ""  # every directive as written, the fail_times key
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def has(self, key: str) -> bool:
        return key in self.values

    def __bool__(self) -> bool:
        return bool(self.values)


NO_DIRECTIVES = Directives()


def parse_directives(text: str) -> Directives:
    """Return the directives in `text`; raise 400 (1210) for an unknown key or value.

    A typo must fail loudly: a silently ignored directive makes a fault test pass
    without the fault.
    """
    found = DIRECTIVE_RE.findall(text)
    if not found:
        return NO_DIRECTIVES
    values: dict[str, Any] = {}
    for body in found:
        for item in filter(None, (part.strip() for part in body.split(","))):
            key, has_value, raw = (s.strip() for s in item.partition("="))
            values[key] = _convert(key, raw if has_value else None)
    values = {key: value for key, value in values.items() if value is not False}
    return Directives(" ".join(f"[[sim:{body}]]" for body in found), values)


def _convert(key: str, raw: str | None) -> Any:
    kind = KEYS.get(key)
    if kind is None:
        raise _bad(f"unknown simulator directive {key!r}")
    if kind == "flag":
        return raw is None or raw.lower() not in FLAG_OFF
    if raw is None:
        if key == "error_event":
            return 2
        raise _bad(f"simulator directive {key!r} needs a value")
    try:
        if kind == "int":
            value: Any = int(raw)
        elif kind == "float":
            value = float(raw)
        else:
            value = raw
            if key == "finish" and value not in FINISH_REASONS:
                raise ValueError
            if key == "tool" and value not in TOOLS:
                raise ValueError
    except ValueError:
        raise _bad(f"simulator directive {key}={raw!r} is not a {kind}") from None
    if kind != "str" and value < 0:
        raise _bad(f"simulator directive {key}={raw!r} must not be negative")
    return value


def _bad(detail: str) -> PlatformError:
    return platform_error("1210", detail=detail)


def strip_directives(text: str) -> str:
    """Return `text` without its directives, as the reply should quote it."""
    return " ".join(DIRECTIVE_RE.sub(" ", text).split())


def message_text(content: Any) -> str:
    """Return the text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def last_user_text(messages: Iterable[Any]) -> str:
    """Return the text of the last message whose role is "user" ("" if none)."""
    for message in reversed(list(messages)):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message.get("content"))
    return ""


class FailureCounter:
    """Counts `fail_times=K` failures per request text, so retries of it succeed."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def should_fail(self, key: str, times: int) -> bool:
        seen = self._seen.get(key, 0)
        self._seen[key] = seen + 1
        return seen < times


def request_directives(text: str, counter: FailureCounter, path: str) -> Directives:
    """Return the directives in `text` (a request's last user text or prompt).

    Raises the platform error a status/code directive asks for, so every endpoint fails
    the same way before doing any work.
    """
    directives = parse_directives(text)
    error = forced_error(directives, counter, f"{path}\n{text}")
    if error is not None:
        raise error
    return directives


def forced_error(
    directives: Directives, counter: FailureCounter, key: str
) -> PlatformError | None:
    """Return the error a status/code directive asks for, or None to carry on."""
    # `code` alone picks an HTTP error, except beside error_event, where it names the
    # code of the in-stream error instead.
    wants_code = directives.has("code") and not directives.has("error_event")
    if not (directives.has("status") or wants_code):
        return None
    if directives.has("fail_times") and not counter.should_fail(
        key, directives.get("fail_times")
    ):
        return None
    code = directives.get("code")
    status = directives.get("status")
    if status is None:
        status = CODES.get(code, (400, ""))[0]
    if code is None:
        code = DEFAULT_CODE_FOR_STATUS.get(status, str(status))
    error = platform_error(code, status=status)
    if directives.has("retry_after") and status in (429, 503):
        error.headers = ((b"retry-after", str(directives.get("retry_after")).encode()),)
    return error
