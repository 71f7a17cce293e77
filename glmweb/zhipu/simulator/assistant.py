"""The glm-4-assistant endpoints the official SDKs call (zhipu-api.md §9).

POST assistant (whole or streamed), POST assistant/list and
POST assistant/conversation/list.
Conversations live in memory, with their token usage, so the list endpoint has
something true to report.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from . import replies
from .directives import last_user_text, request_directives, strip_directives
from .errors import platform_error
from .http import DisconnectWatch, Request, Send, send_json, start_event_stream
from .ids import new_conversation_id, new_request_id

if TYPE_CHECKING:
    from .app import SimulatorState

_CREATED = 1704067200  # 2024-01-01: fixed, so listings are deterministic
_LISTED: tuple[dict[str, Any], ...] = (
    {
        "assistant_id": "659e54b1b8006379b4b2abd6",
        "created_at": _CREATED,
        "updated_at": _CREATED,
        "name": "智谱清言",
        "avatar": "",
        "description": "通用对话智能体（模拟）",
        "status": "publish",
        "tools": ["web_browser", "code_interpreter", "drawing_tool"],
        "starter_prompts": ["你好，介绍一下你自己", "帮我写一首诗"],
    },
    {
        "assistant_id": "9996ijk789lmn012o345p999",
        "created_at": _CREATED,
        "updated_at": _CREATED,
        "name": "翻译助手",
        "avatar": "",
        "description": "中英互译智能体（模拟）",
        "status": "publish",
        "tools": [],
        "starter_prompts": ["把这句话翻译成英文"],
    },
)
ASSISTANTS: dict[str, dict[str, Any]] = {a["assistant_id"]: a for a in _LISTED}


@dataclass
class Conversation:
    id: str
    assistant_id: str
    create_time: int
    update_time: int
    usage: dict[str, int] = field(
        default_factory=lambda: {
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "total_tokens": 0,
        }
    )


class ConversationStore:
    def __init__(self) -> None:
        self.by_id: dict[str, Conversation] = {}


async def converse(request: Request, send: Send, state: SimulatorState) -> None:
    """POST assistant: one turn of a conversation, whole or as an SSE stream."""
    body = request.json_object()
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise platform_error("1214", field="messages")
    user_text = last_user_text(messages)
    directives = request_directives(user_text, state.failures, request.path)
    assistant = ASSISTANTS.get(body.get("assistant_id"))  # type: ignore[arg-type]
    if assistant is None:
        raise platform_error("1214", field="assistant_id")
    conversation = _conversation(state.conversations, body, assistant["assistant_id"])
    said = strip_directives(user_text)
    zh = replies.is_chinese(said)
    tokens = replies.tokenize(replies.chat_reply(assistant["name"], said, [], zh=zh))
    usage = {
        "prompt_tokens": replies.count_tokens(user_text) + 3,
        "completion_tokens": len(tokens),
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    for key, value in usage.items():
        conversation.usage[key] += value
    conversation.update_time = int(time.time())
    head = {
        "id": new_request_id(),
        "conversation_id": conversation.id,
        "assistant_id": assistant["assistant_id"],
        "created": int(time.time()),
        "last_error": None,
        "metadata": {},
    }
    if body.get("stream") is not True:
        await send_json(
            send, _completion(head, "".join(tokens), "completed", "stop", usage)
        )
        return
    rate = directives.get("rate", state.config.token_rate)
    failing_after = directives.get("error_event")
    finish = directives.get(
        "finish", "sensitive" if directives.has("sensitive") else "stop"
    )
    watch = DisconnectWatch(request.receive)
    await start_event_stream(send)
    try:
        if directives.has("tool"):
            await _event(send, _tool_chunk(head, directives.get("tool"), said))
        for sent, token in enumerate(tokens):
            if watch.gone:
                return
            if failing_after is not None and sent >= failing_after:
                await _event(send, _failed(head, directives.get("code") or "1234"))
                await send({"type": "http.response.body", "body": b""})
                return
            chunk = _completion(head, token, "in_progress", None, None)
            await _event(send, chunk)
            if rate:
                await asyncio.sleep(1 / rate)
        await _event(send, _completion(head, "", "completed", finish, usage))
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
    finally:
        watch.close()


def _tool_chunk(head: dict[str, Any], tool: str, said: str) -> dict[str, Any]:
    """Return a `tool_calls` chunk: `tool` run on the user's text, with one output of
    the shape that tool's outputs have (zhipu-api.md §9)."""
    outputs: list[dict[str, Any]] = {
        "web_browser": [
            {
                "title": f"Simulated page about {said[:40]}",
                "link": "https://example.com/simulated",
                "content": "A simulated search result.",
            }
        ],
        "code_interpreter": [{"type": "logs", "logs": "42\n"}],
        "drawing_tool": [{"image": "https://example.com/simulated.png"}],
    }[tool]
    return {
        **head,
        "status": "in_progress",
        "choices": [
            {
                "index": 0,
                "delta": {
                    "type": "tool_calls",
                    "role": "tool",
                    "tool_calls": [
                        {"type": tool, tool: {"input": said, "outputs": outputs}}
                    ],
                },
                "finish_reason": None,
                "metadata": None,
            }
        ],
        "usage": None,
    }


def _failed(head: dict[str, Any], code: str) -> dict[str, Any]:
    """Return the chunk of an agent run that failed mid-stream (status "failed")."""
    return {
        **head,
        "status": "failed",
        "last_error": {"code": code, "message": f"simulated agent failure ({code})"},
        "choices": [],
        "usage": None,
    }


def _conversation(
    store: ConversationStore, body: dict[str, Any], assistant_id: str
) -> Conversation:
    conversation_id = body.get("conversation_id")
    if conversation_id in (None, ""):
        now = int(time.time())
        conversation = Conversation(new_conversation_id(), assistant_id, now, now)
        store.by_id[conversation.id] = conversation
        return conversation
    found = store.by_id.get(str(conversation_id))
    if found is None or found.assistant_id != assistant_id:
        raise platform_error("1214", field="conversation_id")
    return found


def _completion(
    head: dict[str, Any], content: str, status: str, finish: str | None, usage: Any
) -> dict[str, Any]:
    return {
        **head,
        "status": status,
        "choices": [
            {
                "index": 0,
                "delta": {"type": "content", "role": "assistant", "content": content},
                "finish_reason": finish,
                # null, not {}: both SDKs type this field as a bare `dict` and crash
                # building a non-empty or empty mapping into it (docs/simulator.md).
                "metadata": None,
            }
        ],
        "usage": usage,
    }


async def _event(send: Send, payload: dict[str, Any]) -> None:
    data = b"data: " + orjson.dumps(payload) + b"\n\n"
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def list_assistants(request: Request, send: Send, state: SimulatorState) -> None:
    """POST assistant/list: every assistant, or those in assistant_id_list."""
    body = request.json_object() if request.json is not None else {}
    wanted = body.get("assistant_id_list")
    found = [
        assistant
        for assistant_id, assistant in ASSISTANTS.items()
        if not wanted or assistant_id in wanted
    ]
    await send_json(send, {"code": 200, "msg": "success", "data": found})


async def list_conversations(
    request: Request, send: Send, state: SimulatorState
) -> None:
    """POST assistant/conversation/list: one page of an assistant's conversations."""
    body = request.json_object()
    assistant_id = body.get("assistant_id")
    if assistant_id not in ASSISTANTS:
        raise platform_error("1214", field="assistant_id")
    page, page_size = body.get("page") or 1, body.get("page_size") or 10
    if not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1
        for n in (page, page_size)
    ):
        raise platform_error("1214", field="page")
    mine = [
        c for c in state.conversations.by_id.values() if c.assistant_id == assistant_id
    ]
    mine.sort(key=lambda c: (c.update_time, c.id), reverse=True)
    window = mine[(page - 1) * page_size : page * page_size]
    await send_json(
        send,
        {
            "code": 200,
            "msg": "success",
            "data": {
                "assistant_id": assistant_id,
                "has_more": len(mine) > page * page_size,
                "conversation_list": [
                    {
                        "id": c.id,
                        "assistant_id": c.assistant_id,
                        "create_time": c.create_time,
                        "update_time": c.update_time,
                        "usage": c.usage,
                    }
                    for c in window
                ],
            },
        },
    )
