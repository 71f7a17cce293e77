"""Client → server frames of docs/websocket.md: parsing, validation, refusal wording.

parse() turns raw socket text into a typed request or raises FrameRefused with the
protocol's error code; the consumer answers a refusal with an `error` frame in the
user's language and never closes the socket over bad input.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

from chat import conversation_settings

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
    "attachment_not_found": (
        "找不到附件：它可能已过期（未发送的附件保留一天）或已随其他消息发送。"
        "请重新添加。",
        "An attachment was not found: it may have expired (unsent attachments are "
        "kept for a day) or been sent with another message. Please attach it again.",
    ),
    "attachment_refused": ("无法发送这些附件：", "These attachments cannot be sent:"),
    "too_many_attachments": (
        "一条消息最多 {limit} 个附件。",
        "A message may carry at most {limit} attachments.",
    ),
    "rate_limited": (
        "发送得太频繁了，请稍等一分钟再试。",
        "You are sending too fast. Please wait a minute and try again.",
    ),
}


class FrameRefused(Exception):
    """A client frame was refused; `code` is the protocol's error code.

    `reason`, for an invalid option, is the settings rule's own wording.
    """

    def __init__(
        self,
        code: str,
        *,
        field: str = "",
        client_id: str | None = None,
        reason: ValidationError | None = None,
    ) -> None:
        super().__init__(code, field)
        self.code = code
        self.field = field
        self.client_id = client_id
        self.reason = reason


def refusal_text(
    code: str, language: str, field: str = "", reason: ValidationError | None = None
) -> str:
    """Return the user-facing wording of a refusal code in `language`, followed by
    `reason` (rendered in that language) when there is one."""
    chinese = language.lower().startswith("zh")
    text = _WORDING.get(code, _WORDING["invalid"])[0 if chinese else 1]
    limit = (
        settings.GLMWEB_MAX_ATTACHMENTS_PER_MESSAGE
        if code == "too_many_attachments"
        else settings.GLMWEB_MAX_MESSAGE_CHARS
    )
    text = text.format(field=field or "?", limit=limit)
    if reason is None:
        return text
    with translation.override(language):
        return ("" if chinese else " ").join([text, *reason.messages])


@dataclass(frozen=True)
class SendRequest:
    client_id: uuid.UUID
    text: str
    options: dict[str, Any] = field(default_factory=dict)
    # Ids of the sender's unsent uploads (chat.attachments checks whose they are).
    attachments: tuple[int, ...] = ()


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


@dataclass(frozen=True)
class ContinueRequest:
    client_id: uuid.UUID
    message_id: int


@dataclass(frozen=True)
class SelectRequest:
    message_id: int


Request = (
    SendRequest
    | StopRequest
    | RegenerateRequest
    | EditRequest
    | ContinueRequest
    | SelectRequest
)
# The requests that start a reply (and so count against GLMWEB_MESSAGES_PER_MINUTE).
ReplyRequest = SendRequest | RegenerateRequest | EditRequest | ContinueRequest


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
    # PostgreSQL text cannot hold NUL: saved, it failed the send and dropped the
    # socket. The HTTP forms refuse it the same way (Django's CharField).
    if "\x00" in raw:
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


def _attachment_ids(frame: dict[str, Any], client_id: str) -> tuple[int, ...]:
    raw = frame.get("attachments")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) and item > 0
        for item in raw
    ):
        raise FrameRefused("invalid", field="attachments", client_id=client_id)
    ids = tuple(dict.fromkeys(raw))
    if len(ids) > settings.GLMWEB_MAX_ATTACHMENTS_PER_MESSAGE:
        raise FrameRefused("too_many_attachments", client_id=client_id)
    return ids


def parse_options(raw: Any, client_id: str = "") -> dict[str, Any]:
    """Return validated conversation options; raise FrameRefused("invalid").

    The rules are conversation_settings', which the HTTP API uses too; those that
    depend on the conversation's model are checked again by chat.turns once it is
    loaded. A key that is not a setting is refused.
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FrameRefused("invalid", field="options", client_id=client_id)
    for name in raw:
        if name not in conversation_settings.FIELDS:
            raise FrameRefused("invalid", field=f"options.{name}", client_id=client_id)
    try:
        return conversation_settings.validate_settings(
            raw, current_model=None, has_character=None
        )
    except conversation_settings.SettingsInvalid as invalid:
        raise FrameRefused(
            "invalid",
            field=f"options.{invalid.field}",
            client_id=client_id,
            reason=invalid.error,
        ) from None


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
            client_id,
            text,
            parse_options(frame.get("options"), str(client_id)),
            _attachment_ids(frame, str(client_id)),
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
    if kind == "reply.continue":
        client_id = _client_id(frame)
        message_id = _message_id(frame, required=True)
        assert message_id is not None
        return ContinueRequest(client_id, message_id)
    if kind == "reply.select":
        message_id = _message_id(frame, required=True)
        assert message_id is not None
        return SelectRequest(message_id)
    raise FrameRefused("unknown_type")
