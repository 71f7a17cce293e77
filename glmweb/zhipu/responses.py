"""Parsing of platform responses into types.py values (pure, shared by both faces).

Tolerant by design: the platform adds fields and leaves optional ones out (or null), so
every lookup has a default, and only a reply without its essential part (choices, a
task id, a known task status) raises APIResponseError.
"""

from __future__ import annotations

from typing import Any

from glmweb.zhipu.errors import APIResponseError
from glmweb.zhipu.types import (
    AssistantInfo,
    AssistantReply,
    AssistantToolCall,
    ChatCompletion,
    SearchResult,
    ToolOutput,
    Usage,
    VideoResult,
    VideoStatus,
    VideoTask,
)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def parse_usage(data: Any) -> Usage | None:
    """Return the token counts in a `usage` object, or None when there is none."""
    if not isinstance(data, dict):
        return None
    return Usage(
        prompt_tokens=data.get("prompt_tokens") or 0,
        completion_tokens=data.get("completion_tokens") or 0,
        total_tokens=data.get("total_tokens") or 0,
        reasoning_tokens=_dict(data.get("completion_tokens_details")).get(
            "reasoning_tokens"
        )
        or 0,
        cached_tokens=_dict(data.get("prompt_tokens_details")).get("cached_tokens")
        or 0,
    )


def parse_web_search(data: Any) -> tuple[SearchResult, ...]:
    """Return the pages of a top-level `web_search` list."""
    if not isinstance(data, list):
        return ()
    return tuple(
        SearchResult(
            **{field: _str(item.get(field)) for field in SearchResult.__slots__}
        )
        for item in data
        if isinstance(item, dict)
    )


def response_request_id(data: Any, fallback: str | None) -> str | None:
    """Return the platform's id of a reply (request_id, else id), else `fallback`."""
    if isinstance(data, dict):
        return data.get("request_id") or data.get("id") or fallback
    return fallback


def parse_chat_completion(data: Any, request_id: str | None) -> ChatCompletion:
    """Return a ChatCompletion; raise APIResponseError if `data` has no choice."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices[0], dict):
        raise APIResponseError("chat response without choices", request_id=request_id)
    choice = choices[0]
    message = _dict(choice.get("message"))
    return ChatCompletion(
        content=_str(message.get("content")),
        reasoning=_str(message.get("reasoning_content")),
        finish_reason=choice.get("finish_reason"),
        usage=parse_usage(data.get("usage")),
        web_search=parse_web_search(data.get("web_search")),
        request_id=response_request_id(data, request_id),
        model=data.get("model"),
    )


_VIDEO_STATUSES = {
    "PROCESSING": VideoStatus.PROCESSING,
    "SUBMITTED": VideoStatus.PROCESSING,  # seen in the zai SDK's example loop
    "SUCCESS": VideoStatus.SUCCESS,
    "FAIL": VideoStatus.FAIL,
    "FAILED": VideoStatus.FAIL,  # the zai SDK's spelling
}


def _video_status(data: dict[str, Any], request_id: str | None) -> VideoStatus:
    status = _VIDEO_STATUSES.get(_str(data.get("task_status")).upper())
    if status is None:
        raise APIResponseError(
            f"unknown video task_status {data.get('task_status')!r}",
            request_id=request_id,
        )
    return status


def parse_video_task(data: Any, request_id: str | None) -> VideoTask:
    """Return the VideoTask of a submission; raise APIResponseError without an id."""
    data = _dict(data)
    task_id = data.get("id")
    if not task_id:
        raise APIResponseError(
            "video submission without a task id", request_id=request_id
        )
    return VideoTask(
        task_id=str(task_id),
        request_id=data.get("request_id") or request_id,
        status=_video_status(data, request_id)
        if data.get("task_status")
        else VideoStatus.PROCESSING,
        model=data.get("model"),
    )


def parse_video_result(data: Any, task_id: str, request_id: str | None) -> VideoResult:
    """Return the VideoResult of an async-result reply."""
    data = _dict(data)
    status = _video_status(data, request_id)
    videos = data.get("video_result")
    first = _dict(videos[0]) if isinstance(videos, list) and videos else {}
    error = None
    if status is VideoStatus.FAIL:
        code, message = (_dict(data.get("error")).get(k) for k in ("code", "message"))
        error = " ".join(_str(part) for part in (code, message) if part) or "FAIL"
    return VideoResult(
        status=status,
        video_url=first.get("url") or None,
        cover_url=first.get("cover_image_url") or None,
        request_id=data.get("request_id") or request_id,
        task_id=_str(data.get("id")) or task_id,
        model=data.get("model"),
        error=error,
    )


def parse_tool_calls(items: Any) -> tuple[AssistantToolCall, ...]:
    """Return the assistant tool calls of a `tool_calls` delta list."""
    calls = []
    for item in items if isinstance(items, list) else ():
        kind = _str(_dict(item).get("type"))
        detail = _dict(item.get(kind))
        outputs = tuple(
            ToolOutput(
                title=_str(out.get("title")),
                link=_str(out.get("link")),
                content=_str(out.get("content")),
                logs=_str(out.get("logs")),
                image=_str(out.get("image")),
                error=_str(out.get("error_msg")),
            )
            for out in (detail.get("outputs") or ())
            if isinstance(out, dict)
        )
        calls.append(
            AssistantToolCall(
                type=kind, input=_str(detail.get("input")), outputs=outputs
            )
        )
    return tuple(calls)


def parse_assistant_reply(data: Any, request_id: str | None) -> AssistantReply:
    """Return the AssistantReply of a non-streamed assistant answer."""
    data = _dict(data)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise APIResponseError(
            "assistant response without choices", request_id=request_id
        )
    content: list[str] = []
    tool_calls: list[AssistantToolCall] = []
    for choice in choices:
        delta = _dict(_dict(choice).get("delta") or _dict(choice).get("message"))
        if delta.get("type", "content") == "content":
            content.append(_str(delta.get("content")))
        tool_calls.extend(parse_tool_calls(delta.get("tool_calls")))
    return AssistantReply(
        content="".join(content),
        conversation_id=data.get("conversation_id"),
        assistant_id=data.get("assistant_id"),
        status=data.get("status"),
        finish_reason=_dict(choices[-1]).get("finish_reason"),
        tool_calls=tuple(tool_calls),
        usage=parse_usage(data.get("usage")),
        request_id=response_request_id(data, request_id),
    )


def parse_assistant_list(data: Any) -> list[AssistantInfo]:
    """Return the agents of an assistant/list reply."""
    items = _dict(data).get("data")
    return [
        AssistantInfo(
            assistant_id=_str(item.get("assistant_id")),
            name=_str(item.get("name")),
            description=_str(item.get("description")),
            avatar=_str(item.get("avatar")),
            status=_str(item.get("status")),
            tools=tuple(_str(tool) for tool in item.get("tools") or ()),
            starter_prompts=tuple(_str(p) for p in item.get("starter_prompts") or ()),
        )
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, dict)
    ]
