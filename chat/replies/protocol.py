"""The server → client half of docs/websocket.md: every frame type, built here.

Client → server frames are parsed in chat.frames. Nothing else in the app builds an
outbound frame (tests/chat/test_protocol_docs.py checks that, and checks FRAME_TYPES
against the doc's table both ways).

Each builder returns its frame already encoded, once for every socket that gets it:

- `Frames` for a frame sent to every socket of a conversation (and through the relay
  to other processes): a language code -> the encoded text, with "" for everyone
  else. A frame whose text depends on the reader's language (a reply's error message)
  is encoded once per language in settings.LANGUAGES, the others once.
- `str` for a frame sent to one socket.
- `bytes` for reply.delta, the tick's frame: the relay publishes the bytes as they
  are and sockets get them decoded, so the hot path encodes once (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings

from chat import serializers

if TYPE_CHECKING:
    from chat.message_pages import MessagePage
    from chat.models import Conversation, Message, Summary
    from chat.turns import Turn

# Every server → client frame type, in the order of docs/websocket.md.
FRAME_TYPES = (
    "conversation.history",
    "message.created",
    "reply.delta",
    "reply.snapshot",
    "reply.search",
    "reply.tools",
    "reply.end",
    "reply.selected",
    "conversation.updated",
    "summary.created",
    "error",
)

Frames = dict[str, str]

_SNAPSHOT_KEYS = (
    "message_id",
    "seq",
    "content",
    "reasoning",
    "web_search",
    "tool_calls",
)


def _encode(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


def _neutral(frame: dict[str, Any]) -> Frames:
    return {"": _encode(frame)}


def _per_language(build: Callable[[str], dict[str, Any]]) -> Frames:
    frames = {code: _encode(build(code)) for code, _name in settings.LANGUAGES}
    frames[""] = frames.get(settings.LANGUAGE_CODE) or next(iter(frames.values()))
    return frames


def pick(frames: Frames, language: str) -> str:
    """Return the text of `frames` for a reader of `language`."""
    return frames.get(language) or frames[""]


# --- to one socket


def conversation_history(
    conversation: Conversation,
    page: MessagePage,
    summaries: Iterable[Summary],
    streaming: Mapping[str, Any] | None,
    language: str,
) -> str:
    """Return a socket's first frame: the conversation and its newest page of visible
    messages (`has_more`: older ones exist; the page fetches them over HTTP)."""
    return _encode(
        {
            "type": "conversation.history",
            "conversation": serializers.conversation_dict(conversation),
            "messages": [serializers.message_dict(m, language) for m in page.messages],
            "has_more": page.has_more,
            "summaries": [serializers.summary_dict(s) for s in summaries],
            "streaming": _snapshot(streaming) if streaming is not None else None,
        }
    )


def message_replayed(turn: Turn, language: str) -> str:
    """Return message.created for a repeated client_id (what exists, nothing hidden)."""
    return _encode(_message_created(turn, [], language))


def reply_snapshot(snapshot: Mapping[str, Any]) -> str:
    """Return reply.snapshot from a LiveReply's snapshot or a checkpoint (other keys
    of a checkpoint stay on the server)."""
    return _encode({"type": "reply.snapshot", **_snapshot(snapshot)})


def error(code: str, message: str, client_id: str | None = None) -> str:
    """Return the error frame answering a refused client frame."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id:
        frame["client_id"] = client_id
    return _encode(frame)


# --- to every socket of a conversation


def message_created(turn: Turn) -> Frames:
    """Return message.created for a turn just saved."""
    return _neutral(_message_created(turn, turn.superseded, settings.LANGUAGE_CODE))


def reply_delta(message_id: int, seq: int, content: str, reasoning: str) -> bytes:
    """Return a reply.delta frame (bytes: see the module docstring)."""
    return orjson.dumps(
        {
            "type": "reply.delta",
            "message_id": message_id,
            "seq": seq,
            "content": content,
            "reasoning": reasoning,
        }
    )


def reply_search(message_id: int, results: list[dict[str, Any]]) -> Frames:
    return _neutral(
        {"type": "reply.search", "message_id": message_id, "results": results}
    )


def reply_tools(message_id: int, tool_calls: list[dict[str, Any]]) -> Frames:
    """Return reply.tools: an agent reply's tool calls so far (the whole list)."""
    return _neutral(
        {"type": "reply.tools", "message_id": message_id, "tool_calls": tool_calls}
    )


def reply_end(message: Message) -> Frames:
    return _per_language(
        lambda language: {
            "type": "reply.end",
            "message": serializers.message_dict(message, language),
        }
    )


def reply_selected(message: Message, hidden: list[int]) -> Frames:
    """Return reply.selected: version `message` of the latest answer is shown now,
    the messages `hidden` are superseded."""
    return _per_language(
        lambda language: {
            "type": "reply.selected",
            "message": serializers.message_dict(message, language),
            "superseded": hidden,
        }
    )


def conversation_updated(conversation: Conversation) -> Frames:
    return _neutral(
        {
            "type": "conversation.updated",
            "conversation": serializers.conversation_dict(conversation),
        }
    )


def summary_created(summary: Summary) -> Frames:
    return _neutral(
        {"type": "summary.created", "summary": serializers.summary_dict(summary)}
    )


# --- shapes


def _snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    return {key: snapshot.get(key) for key in _SNAPSHOT_KEYS}


def _message_created(
    turn: Turn, superseded: list[int], language: str
) -> dict[str, Any]:
    user, assistant = turn.user, turn.assistant
    return {
        "type": "message.created",
        "client_id": str(turn.client_id),
        "user": serializers.message_dict(user, language) if user else None,
        "assistant": serializers.message_dict(assistant, language)
        if assistant
        else None,
        "superseded": superseded,
    }
