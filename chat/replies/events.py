"""Server → client frames other than reply.delta, encoded once for every socket.

A frame whose text depends on the reader's language (an error message) is encoded
once per language in settings.LANGUAGES; others once. `Frames` maps a language code to
the encoded text, with "" for everyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings

from chat import serializers
from chat.models import Message

Frames = dict[str, str]


def encode(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


def neutral(frame: dict[str, Any]) -> Frames:
    """Return a frame that reads the same in every language."""
    return {"": encode(frame)}


def per_language(build: Callable[[str], dict[str, Any]]) -> Frames:
    """Return a frame built and encoded once per configured language."""
    frames = {code: encode(build(code)) for code, _name in settings.LANGUAGES}
    frames[""] = frames.get(settings.LANGUAGE_CODE) or next(iter(frames.values()))
    return frames


def pick(frames: Frames, language: str) -> str:
    return frames.get(language) or frames[""]


def reply_end(message: Message) -> Frames:
    return per_language(
        lambda language: {
            "type": "reply.end",
            "message": serializers.message_dict(message, language),
        }
    )


def message_created(
    client_id: str,
    user: Message | None,
    assistant: Message | None,
    superseded: list[int],
    language: str = "",
) -> dict[str, Any]:
    lang = language or settings.LANGUAGE_CODE
    return {
        "type": "message.created",
        "client_id": client_id,
        "user": serializers.message_dict(user, lang) if user else None,
        "assistant": serializers.message_dict(assistant, lang) if assistant else None,
        "superseded": superseded,
    }


def snapshot(snap: dict[str, Any]) -> dict[str, Any]:
    return {"type": "reply.snapshot", **snap}


def error(code: str, message: str, client_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id:
        frame["client_id"] = client_id
    return frame
