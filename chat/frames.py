"""Client → server frames of docs/websocket.md: parsing, validation, refusal wording.

parse() turns raw socket text into a typed request or raises FrameRefused with the
protocol's error code; the consumer answers a refusal with an `error` frame in the
user's language and never closes the socket over bad input.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings

from chat import catalog

# code -> (zh-hans, en)
_WORDING: dict[str, tuple[str, str]] = {
    "invalid_json": ("无法读取这条请求。", "The request could not be read."),
    "unknown_type": ("不支持这种请求。", "This kind of request is not supported."),
    "invalid": (
        "请求中有无效的内容：{field}。",
        "The request has an invalid value: {field}.",
    ),
    "empty_text": ("消息不能为空。", "The message is empty."),
    "text_too_long": (
        "消息太长了，最多 {limit} 个字符。",
        "The message is too long: at most {limit} characters.",
    ),
    "busy": (
        "正在生成回复，请等它结束或先停止它。",
        "A reply is still being written. Wait for it or stop it first.",
    ),
    "not_found": (
        "找不到这条消息，它可能已被修改。",
        "That message was not found; it may have been changed.",
    ),
}


class FrameRefused(Exception):
    """A client frame was refused; `code` is the protocol's error code."""

    def __init__(
        self, code: str, *, field: str = "", client_id: str | None = None
    ) -> None:
        super().__init__(code, field)
        self.code = code
        self.field = field
        self.client_id = client_id


def refusal_text(code: str, language: str, field: str = "") -> str:
    """Return the user-facing wording of a refusal code in `language`."""
    pair = _WORDING.get(code, _WORDING["invalid"])
    text = pair[0 if language.lower().startswith("zh") else 1]
    return text.format(field=field or "?", limit=settings.GLMWEB_MAX_MESSAGE_CHARS)


@dataclass(frozen=True)
class SendRequest:
    client_id: uuid.UUID
    text: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StopRequest:
    message_id: int | None


@dataclass(frozen=True)
class RegenerateRequest:
    client_id: uuid.UUID


@dataclass(frozen=True)
class EditRequest:
    message_id: int
    client_id: uuid.UUID
    text: str


Request = SendRequest | StopRequest | RegenerateRequest | EditRequest


def _client_id(frame: dict[str, Any]) -> uuid.UUID:
    raw = frame.get("client_id")
    try:
        if not isinstance(raw, str):
            raise ValueError
        return uuid.UUID(raw)
    except ValueError:
        raise FrameRefused("invalid", field="client_id") from None


def _text(frame: dict[str, Any], client_id: str) -> str:
    raw = frame.get("text")
    if not isinstance(raw, str):
        raise FrameRefused("invalid", field="text", client_id=client_id)
    text = raw.strip()
    if not text:
        raise FrameRefused("empty_text", client_id=client_id)
    if len(text) > settings.GLMWEB_MAX_MESSAGE_CHARS:
        raise FrameRefused("text_too_long", client_id=client_id)
    return text


def _message_id(frame: dict[str, Any], *, required: bool) -> int | None:
    raw = frame.get("message_id")
    if raw is None and not required:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise FrameRefused("invalid", field="message_id")
    return raw


def _number(value: Any, name: str, low: float, high: float, client_id: str) -> Any:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise FrameRefused("invalid", field=f"options.{name}", client_id=client_id)
    return float(value)


def parse_options(raw: Any, client_id: str = "") -> dict[str, Any]:
    """Return validated conversation options; raise FrameRefused("invalid").

    Ranges are the platform's (chat.catalog): temperature in [0, 1], top_p in (0, 1],
    max_tokens from 1 to the model's max_output, a model from the catalog.
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FrameRefused("invalid", field="options", client_id=client_id)
    options: dict[str, Any] = {}
    model = None
    if "model" in raw:
        model = (
            catalog.get_model(raw["model"]) if isinstance(raw["model"], str) else None
        )
        if model is None:
            raise FrameRefused("invalid", field="options.model", client_id=client_id)
        options["model"] = model.code
    for name, value in raw.items():
        bad = FrameRefused("invalid", field=f"options.{name}", client_id=client_id)
        if name == "model":
            continue
        if name == "system_prompt":
            if (
                not isinstance(value, str)
                or len(value) > settings.GLMWEB_MAX_SYSTEM_PROMPT_CHARS
            ):
                raise bad
            options[name] = value.strip()
        elif name == "temperature":
            options[name] = _number(value, name, *catalog.TEMPERATURE_RANGE, client_id)
        elif name == "top_p":
            top_p = _number(value, name, *catalog.TOP_P_RANGE, client_id)
            if top_p is not None and top_p <= catalog.TOP_P_RANGE[0]:
                raise bad
            options[name] = top_p
        elif name == "max_tokens":
            ceiling = (
                model.max_output
                if model
                else max(m.max_output for m in catalog.list_models())
            )
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 1 <= value <= ceiling
            ):
                raise bad
            options[name] = value
        elif name in ("web_search", "thinking"):
            if not isinstance(value, bool):
                raise bad
            options[name] = value
        else:
            raise bad
    return options


def parse(raw: str | bytes | None) -> Request:
    """Return the request a client frame asks for, or raise FrameRefused."""
    # Checked before parsing, so a huge frame costs no JSON work (4 bytes a character
    # at most, plus the options).
    limit = (
        settings.GLMWEB_MAX_MESSAGE_CHARS + settings.GLMWEB_MAX_SYSTEM_PROMPT_CHARS
    ) * 4 + 4096
    if raw is None or len(raw) > limit:
        raise FrameRefused("text_too_long" if raw else "invalid_json")
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise FrameRefused("invalid_json") from None
    if not isinstance(frame, dict):
        raise FrameRefused("invalid_json")
    kind = frame.get("type")
    if kind == "message.send":
        client_id = _client_id(frame)
        text = _text(frame, str(client_id))
        return SendRequest(
            client_id, text, parse_options(frame.get("options"), str(client_id))
        )
    if kind == "reply.stop":
        return StopRequest(_message_id(frame, required=False))
    if kind == "reply.regenerate":
        return RegenerateRequest(_client_id(frame))
    if kind == "message.edit":
        client_id = _client_id(frame)
        message_id = _message_id(frame, required=True)
        assert message_id is not None
        return EditRequest(message_id, client_id, _text(frame, str(client_id)))
    raise FrameRefused("unknown_type")
