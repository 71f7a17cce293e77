"""POST chat/completions (and async/chat/completions): validate like the platform,
then answer with a deterministic reply, whole or streamed."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from . import replies, streaming, vision, websearch
from .catalog import ModelInfo, find_model
from .directives import (
    DIRECTIVE_RE,
    last_user_text,
    message_text,
    request_directives,
    strip_directives,
)
from .errors import platform_error
from .http import Request, Send, hang_up, send_json
from .ids import new_request_id, new_task_id
from .jobs import Job
from .streaming import ReplyPlan

if TYPE_CHECKING:
    from .app import SimulatorState

ROLES = {"system", "user", "assistant", "tool"}
MEDIA_PARTS = {"image_url", "video_url"}


async def create_completion(
    request: Request, send: Send, state: SimulatorState
) -> None:
    """Answer a chat request whole or as an SSE stream; raise PlatformError."""
    plan = build_plan(request, state)
    if plan.directives.get("hang_up"):
        await hang_up(send)
    if plan.stream:
        await streaming.stream_reply(send, plan, request.receive)
        return
    stall = plan.directives.get("stall_s")
    if stall:
        # A non-stream reply cannot stall midway, so it stalls before answering; this is
        # what lets a client (or an SDK timeout) be tested against a slow platform.
        await asyncio.sleep(stall)
    await send_json(send, completion_body(plan))


async def create_async_completion(
    request: Request, send: Send, state: SimulatorState
) -> None:
    """Queue the reply; it is ready after as long as streaming it would have taken."""
    plan = build_plan(request, state, streamable=False)
    task_id = new_task_id()
    tokens = len(plan.reasoning) + len(plan.content)
    delay = tokens / plan.rate if plan.rate else 0.0
    state.jobs.add(
        Job(
            task_id,
            "chat",
            plan.model,
            plan.request_id,
            time.monotonic() + delay,
            result=completion_body(plan),
        )
    )
    await send_json(
        send,
        {
            "id": task_id,
            "request_id": plan.request_id,
            "model": plan.model,
            "task_status": "PROCESSING",
        },
    )


def build_plan(
    request: Request, state: SimulatorState, *, streamable: bool = True
) -> ReplyPlan:
    """Validate a chat request and return what to answer; raise PlatformError."""
    body = request.json_object()
    messages = body.get("messages")
    if messages is None:
        raise platform_error("1213", field="messages")
    if not isinstance(messages, list) or not messages:
        raise platform_error("1214", field="messages")
    user_text = last_user_text(messages)
    directives = request_directives(user_text, state.failures, request.path)
    model_name = body.get("model")
    if model_name is None or model_name == "":
        raise platform_error("1213", field="model")
    model = find_model(model_name)
    if model is None:
        raise platform_error("1211")
    if model.kind in ("video", "assistant"):
        raise platform_error("1212", field="chat/completions")
    _check_messages(messages)
    _check_sampling(body)
    zh = replies.is_chinese(user_text)
    said = strip_directives(user_text)
    text, search = _reply_text(body, model, messages, said, zh)
    if directives.get("search_echo") and search is not None:
        search = websearch.echoed_results(DIRECTIVE_RE.sub("", user_text))
    if directives.get("echo"):
        # The reply is the user's text itself, so a test can make "the model" write any
        # Markdown (or hostile HTML) it wants rendered.
        text = DIRECTIVE_RE.sub("", user_text).strip()
    thinking = body.get("thinking")
    # Thinking models think unless told not to: the platform's default is "enabled",
    # and the SDKs send `thinking: null` when the caller did not choose.
    wants_thinking = model.thinking and not (
        isinstance(thinking, dict) and thinking.get("type") == "disabled"
    )
    reasoning = (
        replies.tokenize(replies.reasoning_text(said, zh=zh)) if wants_thinking else []
    )
    content = replies.tokenize(text)
    if directives.has("tokens"):
        content = replies.stretch(content, directives.get("tokens"))
    finish_reason = "stop"
    if directives.get("sensitive"):
        content = content[: (len(content) + 1) // 2]
        finish_reason = "sensitive"
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, int) and len(content) > max_tokens:
        content = content[:max_tokens]
        finish_reason = "length"
    if directives.has("finish"):
        # Any ending the platform reports (tool_calls, network_error, ...), with the
        # whole text: what the app says about each is the test.
        finish_reason = directives.get("finish")
    prompt_tokens = sum(
        replies.count_tokens(message_text(m.get("content"))) + 3 for m in messages
    )
    request_id = body.get("request_id")
    response_id = new_request_id()
    return ReplyPlan(
        id=response_id,
        request_id=str(request_id) if request_id not in (None, "") else response_id,
        created=int(time.time()),
        model=str(model_name),
        reasoning=reasoning,
        content=content,
        finish_reason=finish_reason,
        prompt_tokens=prompt_tokens,
        web_search=search,
        stream=streamable and body.get("stream") is True,
        rate=directives.get("rate", state.config.token_rate),
        directives=directives,
    )


def _check_messages(messages: list[Any]) -> None:
    has_user = False
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise platform_error("1214", field="messages")
        has_user = has_user or message["role"] == "user"
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    raise platform_error("1214", field="messages.content")
    # The platform refuses a conversation made only of system/assistant turns.
    if not has_user:
        raise platform_error("1214", field="messages")


def _check_sampling(body: dict[str, Any]) -> None:
    checks = {
        "temperature": lambda v: 0 <= v <= 1,
        "top_p": lambda v: 0 < v <= 1,
        "max_tokens": lambda v: isinstance(v, int) and v >= 1,
    }
    for name, valid in checks.items():
        value = body.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not valid(value)
        ):
            raise platform_error("1214", field=name)


def _reply_text(
    body: dict[str, Any], model: ModelInfo, messages: list[Any], said: str, zh: bool
) -> tuple[str, list[dict[str, str]] | None]:
    if model.kind == "roleplay":
        meta = body.get("meta")
        if meta is None:
            raise platform_error("1213", field="meta")
        if not isinstance(meta, dict) or not all(
            isinstance(meta.get(key), str) and meta[key]
            for key in ("bot_name", "user_name")
        ):
            raise platform_error("1214", field="meta")
        return replies.roleplay_reply(
            meta["bot_name"], meta["user_name"], said, zh=zh
        ), None
    if _asks_for_title(messages):
        return replies.title_reply(said), None
    notes = _media_notes(model, messages, zh)
    search = None
    options = websearch.search_options(body.get("tools"))
    if options is not None:
        search = websearch.search_results(options, said)
        notes.insert(0, websearch.citation(zh=zh, count=len(search or [None])))
    return replies.chat_reply(str(body.get("model")), said, notes, zh=zh), search


def _asks_for_title(messages: list[Any]) -> bool:
    system = next((m for m in messages if m.get("role") == "system"), None)
    return system is not None and bool(
        replies.TITLE_REQUEST_RE.search(message_text(system.get("content")))
    )


def _media_notes(model: ModelInfo, messages: list[Any], zh: bool) -> list[str]:
    """Check every image and video in the conversation; describe those of the last
    user turn, numbered in the order they came, after a count of the whole request."""
    last_user = max(
        (i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1
    )
    notes: list[str] = []
    images = videos = 0
    for index, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            kind = part.get("type")
            if kind not in MEDIA_PARTS:
                continue
            if model.kind != "vision":
                # 1214 (field invalid) rather than 1210: the request is well-formed, but
                # this field is not valid for a text model.
                raise platform_error("1214", field=f"messages.content.{kind}")
            if kind == "image_url":
                images += 1
                url = vision.image_url_value(part)
                vision.check_image_limits(model.name, url, images)
                note = vision.describe_image(url, zh=zh)
            else:
                videos += 1
                note = vision.describe_video(part, zh=zh)
            if index == last_user:
                notes.append(f"[{len(notes) + 1}] {note}")
    if images or videos:
        notes.insert(0, vision.count_note(images, videos, zh=zh))
    return notes


def completion_body(plan: ReplyPlan) -> dict[str, Any]:
    """Return the non-stream response (zhipu-api.md §2.3)."""
    message: dict[str, Any] = {"content": "".join(plan.content), "role": "assistant"}
    if plan.reasoning:
        message["reasoning_content"] = "".join(plan.reasoning)
    body: dict[str, Any] = {
        "choices": [
            {"finish_reason": plan.finish_reason, "index": 0, "message": message}
        ],
        "created": plan.created,
        "id": plan.id,
        "model": plan.model,
        "object": "chat.completion",
        "request_id": plan.request_id,
        "usage": plan.usage(),
    }
    if plan.web_search is not None:
        body["web_search"] = plan.web_search
    if plan.finish_reason == "sensitive":
        body["content_filter"] = [{"role": "assistant", "level": 1}]
    return body
