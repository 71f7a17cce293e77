"""Platform request bodies (pure, shared by both faces).

With responses.py and streams.py, the only places that know the platform's JSON field
names and paths. Builders return plain dicts ready for orjson.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypedDict

from glmweb.zhipu.types import CharacterMeta, Message, WebSearchOptions

CHAT_PATH = "chat/completions"
VIDEO_PATH = "videos/generations"
ASYNC_RESULT_PATH = "async-result/"
ASSISTANT_PATH = "assistant"
ASSISTANT_LIST_PATH = "assistant/list"


class ChatOptions(TypedDict, total=False):
    """Optional arguments of chat()/stream_chat() and their async twins."""

    temperature: float
    top_p: float
    max_tokens: int
    do_sample: bool
    thinking: bool | Literal["enabled", "disabled"]
    meta: CharacterMeta
    web_search: bool | WebSearchOptions
    tools: list[dict[str, Any]]
    stop: list[str]
    request_id: str
    user_id: str


class VideoOptions(TypedDict, total=False):
    """Optional arguments of submit_video()."""

    image_url: str
    quality: Literal["speed", "quality"]
    with_audio: bool
    size: str
    fps: int
    duration: int
    request_id: str
    user_id: str


class AssistantOptions(TypedDict, total=False):
    """Optional arguments of assistant_chat()/stream_assistant()."""

    conversation_id: str
    attachments: list[str]  # file ids
    metadata: dict[str, Any]
    request_id: str
    user_id: str


def strip_data_url(url: str) -> str:
    """Return `url`, with a data:image/...;base64, prefix cut down to the bare base64.

    The official SDK does exactly this before sending, so bare base64 is what the
    platform is known to accept.
    """
    if url.startswith("data:image/"):
        return url.split("base64,")[-1]
    return url


def _prepare_messages(messages: Sequence[Message]) -> list[Message]:
    # Copy only the messages we change; never mutate the caller's dicts (the SDK does).
    prepared: list[Message] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(part, dict) and part.get("type") == "image_url"
            for part in content
        ):
            parts = [_prepare_part(part) for part in content]
            message = {**message, "content": parts}
        prepared.append(message)
    return prepared


def _prepare_part(part: Any) -> Any:
    if not (isinstance(part, dict) and part.get("type") == "image_url"):
        return part
    image = part.get("image_url")
    if isinstance(image, str):  # tolerate the OpenAI-style shorthand
        image = {"url": image}
    if isinstance(image, dict) and isinstance(image.get("url"), str):
        return {**part, "image_url": {**image, "url": strip_data_url(image["url"])}}
    return part


def _clamp(value: float, *, low: float = 0.01, high: float = 0.99) -> float:
    # The platform takes the open interval (0, 1); the SDK rewrites the ends to these.
    return low if value <= 0 else high if value >= 1 else value


def chat_payload(
    messages: Sequence[Message], *, model: str, stream: bool, **options: Any
) -> dict[str, Any]:
    """Return the chat/completions body for `messages` and ChatOptions `options`."""
    body: dict[str, Any] = {
        "model": model,
        "messages": _prepare_messages(messages),
        "stream": stream,
    }
    temperature = options.pop("temperature", None)
    if temperature is not None:
        if temperature <= 0:  # SDK: "greedy" means sampling off
            body["do_sample"] = False
        body["temperature"] = _clamp(temperature)
    top_p = options.pop("top_p", None)
    if top_p is not None:
        body["top_p"] = _clamp(top_p)
    do_sample = options.pop("do_sample", None)
    if do_sample is not None:
        body["do_sample"] = do_sample
    thinking = options.pop("thinking", None)
    if thinking is not None:
        if isinstance(thinking, bool):
            thinking = "enabled" if thinking else "disabled"
        body["thinking"] = {"type": thinking}
    tools = list(options.pop("tools", None) or ())
    web_search = options.pop("web_search", None)
    if web_search:
        search: dict[str, Any] = {"enable": True, "search_result": True}
        if isinstance(web_search, Mapping):
            search.update(web_search)
        tools.append({"type": "web_search", "web_search": search})
    if tools:
        body["tools"] = tools
    for key in ("max_tokens", "meta", "stop", "request_id", "user_id"):
        value = options.pop(key, None)
        if value is not None:
            body[key] = dict(value) if key == "meta" else value
    if options:
        raise TypeError(f"unknown chat options: {', '.join(sorted(options))}")
    return body


def video_payload(prompt: str | None, *, model: str, **options: Any) -> dict[str, Any]:
    """Return the videos/generations body; unset options are left out."""
    body: dict[str, Any] = {"model": model}
    if prompt is not None:
        body["prompt"] = prompt
    image_url = options.pop("image_url", None)
    if image_url is not None:
        body["image_url"] = strip_data_url(image_url)
    for key in (
        "quality",
        "with_audio",
        "size",
        "fps",
        "duration",
        "request_id",
        "user_id",
    ):
        value = options.pop(key, None)
        if value is not None:
            body[key] = value
    if options:
        raise TypeError(f"unknown video options: {', '.join(sorted(options))}")
    return body


def assistant_payload(
    assistant_id: str,
    messages: str | Sequence[Mapping[str, Any]],
    *,
    stream: bool,
    **options: Any,
) -> dict[str, Any]:
    """Return the assistant body; a plain string becomes one user text message."""
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    prepared = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):  # the assistant API takes a list of parts only
            message = {**message, "content": [{"type": "text", "text": content}]}
        prepared.append(message)
    body: dict[str, Any] = {
        "assistant_id": assistant_id,
        "messages": prepared,
        "stream": stream,
    }
    attachments = options.pop("attachments", None)
    if attachments:
        body["attachments"] = [{"file_id": file_id} for file_id in attachments]
    for key in ("conversation_id", "metadata", "request_id", "user_id"):
        value = options.pop(key, None)
        if value is not None:
            body[key] = value
    if options:
        raise TypeError(f"unknown assistant options: {', '.join(sorted(options))}")
    return body


def assistant_list_payload(assistant_ids: Iterable[str] | None) -> dict[str, Any]:
    """Return the assistant/list body (all agents when `assistant_ids` is None)."""
    return {} if assistant_ids is None else {"assistant_id_list": list(assistant_ids)}
