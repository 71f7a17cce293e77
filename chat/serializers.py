"""The JSON shapes of conversations, messages, summaries and snapshots.

One place for them, because the websocket (docs/websocket.md), the HTTP API and the
exports all send the same objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from django.urls import reverse

from chat import attachments, versions
from chat.characters import access
from chat.models import Conversation, Message, Summary
from glmweb import zhipu
from glmweb.zhipu import wording

# Chat-level error codes, beside the GLMError kinds the client raises: wording (None:
# the tree's wording for that kind) and whether regenerating can help. "error" is an
# unexpected fault on our side, not the platform's refusal, so a retry may pass.
_CHAT_ERRORS: dict[str, tuple[tuple[str, str] | None, bool]] = {
    "server_restarted": (
        (
            "服务器在回复过程中重启了，已保留中断前的部分回复。",
            "The server restarted during this reply; the part written before that "
            "has been kept.",
        ),
        True,
    ),
    # The platform ended the stream with finish_reason "network_error": its side
    # lost the model mid-reply (zhipu-api.md §2.4); a new attempt may pass.
    "network_error": (
        (
            "平台与模型之间的网络中断了，回复没有写完；已保留收到的部分。",
            "The platform lost its connection to the model, so the reply is "
            "unfinished; the text received so far is kept.",
        ),
        True,
    ),
    "error": (None, True),
}


class ErrorDict(TypedDict):
    code: str
    message: str  # our wording, in the reader's language
    detail: str  # the platform's own words (plain text, capped), or ""
    retryable: bool


class MessageDict(TypedDict):
    id: int
    client_id: str | None
    role: str
    content: str
    reasoning: str
    web_search: list[dict[str, Any]]
    # An agent reply's tool calls (chat.assistants.tool_call_dict); [] otherwise.
    tool_calls: list[dict[str, Any]]
    status: str
    error: ErrorDict | None
    model: str
    usage: dict[str, int | None] | None
    # Why the platform ended the reply ("length": cut by max_tokens, "tool_calls",
    # ...; "" when unknown): the page says so and offers Continue after "length".
    finish_reason: str
    # A reply's versions (chat.versions): ids of the answers to the same user
    # message, oldest first, this one included; [] for a user message.
    versions: list[int]
    created_at: str
    finished_at: str | None
    # A user message's images and videos; a reply's `seen_attachments` are the ids of
    # those its model was sent (chat.vision), for the page to mark the others.
    attachments: list[attachments.AttachmentDict]
    seen_attachments: list[int]


class CharacterRefDict(TypedDict):
    """A conversation's character as the page shows it (chat.characters)."""

    id: str
    name: str
    avatar_url: str | None  # the owner-checked avatar view, or None
    greetings: int  # how many greetings it has (the switcher's count)
    greeting_index: int  # which one opened this conversation
    persona: str | None  # the name of the user's persona in it, if any


class ConversationDict(TypedDict):
    id: str
    title: str
    model: str
    system_prompt: str
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    web_search: bool
    thinking: bool
    # The platform agent this conversation talks to (chat.assistants), or "".
    assistant_id: str
    pinned: bool
    archived: bool
    character: CharacterRefDict | None
    created_at: str
    updated_at: str


class SummaryDict(TypedDict):
    id: int
    content: str
    covers_until: int
    covered_messages: int
    created_at: str


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def error_text(code: str, upstream_code: str, interrupted: bool, language: str) -> str:
    """Return the user-facing wording for a stored reply error, in `language`."""
    own = _CHAT_ERRORS.get(code, (None, False))[0]
    if own is not None:
        return own[0 if language.lower().startswith("zh") else 1]
    return wording.user_message(code, upstream_code or None, interrupted, language)


def error_retryable(code: str, upstream_code: str) -> bool:
    """Return whether regenerating a reply that failed with `code` may succeed: the
    error tree's transient flag (zhipu.is_transient), or the chat-level table."""
    if code in _CHAT_ERRORS:
        return _CHAT_ERRORS[code][1]
    return zhipu.is_transient(code, upstream_code or None)


def message_dict(message: Message, language: str = "zh-hans") -> MessageDict:
    """Return a message as the websocket and the API send it."""
    error: ErrorDict | None = None
    if message.error_code:
        error = {
            "code": message.error_code,
            "message": error_text(
                message.error_code,
                message.error_upstream_code,
                bool(message.content) and message.status == Message.Status.INTERRUPTED,
                language,
            ),
            "detail": message.error_detail,
            "retryable": error_retryable(
                message.error_code, message.error_upstream_code
            ),
        }
    usage = None
    if message.prompt_tokens is not None or message.completion_tokens is not None:
        usage = {
            "prompt_tokens": message.prompt_tokens,
            "completion_tokens": message.completion_tokens,
            "reasoning_tokens": message.reasoning_tokens,
        }
    return {
        "id": message.pk,
        "client_id": str(message.client_id) if message.client_id else None,
        "role": message.role,
        "content": message.content,
        "reasoning": message.reasoning,
        "web_search": message.web_search or [],
        "tool_calls": message.tool_calls or [],
        "status": message.status,
        "error": error,
        "model": message.model,
        "usage": usage,
        "finish_reason": message.finish_reason,
        "versions": versions.version_ids(message)
        if message.role == Message.Role.ASSISTANT
        else [],
        "created_at": _iso(message.created_at) or "",
        "finished_at": _iso(message.finished_at),
        "attachments": [
            attachments.attachment_dict(row) for row in attachments.rows_of(message)
        ],
        "seen_attachments": list(message.seen_attachments or []),
    }


def conversation_dict(conversation: Conversation) -> ConversationDict:
    """Return a conversation's fields as the websocket and the API send them."""
    return {
        "id": str(conversation.pk),
        "title": conversation.title,
        "model": conversation.model,
        "system_prompt": conversation.system_prompt,
        "temperature": conversation.temperature,
        "top_p": conversation.top_p,
        "max_tokens": conversation.max_tokens,
        "web_search": conversation.web_search,
        "thinking": conversation.thinking,
        "assistant_id": conversation.assistant_id,
        "pinned": conversation.pinned,
        "archived": conversation.archived,
        "character": character_ref(conversation),
        "created_at": _iso(conversation.created_at) or "",
        "updated_at": _iso(conversation.updated_at) or "",
    }


def character_ref(conversation: Conversation) -> CharacterRefDict | None:
    """Return the conversation's character for the page, or None when it has none or
    its owner may no longer see it (access's rule). No query: the manager joins it."""
    character = access.conversation_character(conversation)
    if character is None:
        return None
    persona = access.conversation_persona(conversation)
    avatar_url = None
    if character.avatar:
        stamp = int(character.updated_at.timestamp())
        avatar_url = f"{reverse('characters:avatar', args=[character.pk])}?v={stamp}"
    return {
        "id": str(character.pk),
        "name": character.name,
        "avatar_url": avatar_url,
        "greetings": len(character.greetings()),
        "greeting_index": conversation.greeting_index,
        "persona": persona.name if persona else None,
    }


def summary_dict(summary: Summary) -> SummaryDict:
    """Return a summary as the websocket and the API send it."""
    return {
        "id": summary.pk,
        "content": summary.content,
        "covers_until": summary.covers_until_id,
        "covered_messages": summary.covered_messages,
        "created_at": _iso(summary.created_at) or "",
    }
