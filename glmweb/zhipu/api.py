"""Module-level calls on the pooled clients, e.g. `zhipu.astream_chat(...)`.

Every function raises a GLMError subclass on failure (see the tree in errors.py); the
streaming ones return iterators that raise it while being consumed. `max_retries`
overrides ZHIPUAI_MAX_RETRIES for one call. An async twin carries the `a` prefix and
must run inside an event loop.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence

from typing_extensions import Unpack

from glmweb.zhipu.base import AssistantMessages
from glmweb.zhipu.payloads import AssistantOptions, ChatOptions, VideoOptions
from glmweb.zhipu.registry import get_async_client, get_client
from glmweb.zhipu.types import (
    AssistantDelta,
    AssistantInfo,
    AssistantReply,
    ChatCompletion,
    ChatDelta,
    Message,
    VideoResult,
    VideoTask,
)


def chat(
    messages: Sequence[Message],
    *,
    model: str | None = None,
    max_retries: int | None = None,
    **options: Unpack[ChatOptions],
) -> ChatCompletion:
    """Return the whole reply to `messages` (content, reasoning, usage, sources).

    Options: temperature/top_p (clamped into (0, 1) as the SDK does), max_tokens,
    thinking (True/False or "enabled"/"disabled"), meta (a CharacterMeta for
    charglm), web_search (True or WebSearchOptions), tools, stop, request_id, user_id.
    Raises GLMError.
    """
    return get_client().chat(messages, model=model, max_retries=max_retries, **options)


async def achat(
    messages: Sequence[Message],
    *,
    model: str | None = None,
    max_retries: int | None = None,
    **options: Unpack[ChatOptions],
) -> ChatCompletion:
    """Return the model's whole reply to `messages`; the async twin of chat()."""
    client = get_async_client()
    return await client.chat(messages, model=model, max_retries=max_retries, **options)


def stream_chat(
    messages: Sequence[Message],
    *,
    model: str | None = None,
    max_retries: int | None = None,
    **options: Unpack[ChatOptions],
) -> Iterator[ChatDelta]:
    """Return an iterator of ChatDeltas of the reply to `messages` (options as chat()).

    The last delta has `finish_reason` ("sensitive" when the content filter stopped
    the reply: show the filter notice, this is not an exception) and usually `usage`.
    A failure after text arrived raises a GLMError whose `partial_content` holds it.
    """
    return get_client().stream_chat(
        messages, model=model, max_retries=max_retries, **options
    )


def astream_chat(
    messages: Sequence[Message],
    *,
    model: str | None = None,
    max_retries: int | None = None,
    **options: Unpack[ChatOptions],
) -> AsyncGenerator[ChatDelta, None]:
    """Return an async iterator of ChatDeltas; the async twin of stream_chat().

    Close it (contextlib.aclosing) when leaving the loop early, so the connection
    goes back to the pool at once rather than at garbage collection.
    """
    client = get_async_client()
    return client.stream_chat(messages, model=model, max_retries=max_retries, **options)


def submit_video(
    prompt: str | None,
    *,
    model: str | None = None,
    max_retries: int | None = None,
    **options: Unpack[VideoOptions],
) -> VideoTask:
    """Start generating a video and return its VideoTask (task_id, request_id).

    Options: image_url (URL or base64), quality, with_audio, size, fps, duration,
    request_id, user_id. Raises GLMError.
    """
    return get_client().submit_video(
        prompt, model=model, max_retries=max_retries, **options
    )


async def asubmit_video(
    prompt: str | None,
    *,
    model: str | None = None,
    max_retries: int | None = None,
    **options: Unpack[VideoOptions],
) -> VideoTask:
    """Start generating a video; the async twin of submit_video()."""
    client = get_async_client()
    return await client.submit_video(
        prompt, model=model, max_retries=max_retries, **options
    )


def get_video_result(task_id: str, *, max_retries: int | None = None) -> VideoResult:
    """Return the VideoResult of `task_id` (status, video_url, cover_url, ...).

    Raises APINotFoundError for an unknown task id, other GLMErrors on failure.
    """
    return get_client().get_video_result(task_id, max_retries=max_retries)


async def aget_video_result(
    task_id: str, *, max_retries: int | None = None
) -> VideoResult:
    """Return the VideoResult of `task_id`; the async twin of get_video_result()."""
    return await get_async_client().get_video_result(task_id, max_retries=max_retries)


def assistant_chat(
    assistant_id: str,
    messages: AssistantMessages,
    *,
    max_retries: int | None = None,
    **options: Unpack[AssistantOptions],
) -> AssistantReply:
    """Return a glm-4-assistant agent's whole reply to `messages` (text or messages).

    Options: conversation_id (continue a platform-side conversation), attachments
    (file ids), metadata, request_id, user_id. Raises GLMError.
    """
    client = get_client()
    return client.assistant_chat(
        assistant_id, messages, max_retries=max_retries, **options
    )


async def aassistant_chat(
    assistant_id: str,
    messages: AssistantMessages,
    *,
    max_retries: int | None = None,
    **options: Unpack[AssistantOptions],
) -> AssistantReply:
    """Return an agent's whole reply; the async twin of assistant_chat()."""
    client = get_async_client()
    return await client.assistant_chat(
        assistant_id, messages, max_retries=max_retries, **options
    )


def stream_assistant(
    assistant_id: str,
    messages: AssistantMessages,
    *,
    max_retries: int | None = None,
    **options: Unpack[AssistantOptions],
) -> Iterator[AssistantDelta]:
    """Return an iterator of AssistantDeltas (text, tool calls, conversation_id)."""
    client = get_client()
    return client.stream_assistant(
        assistant_id, messages, max_retries=max_retries, **options
    )


def astream_assistant(
    assistant_id: str,
    messages: AssistantMessages,
    *,
    max_retries: int | None = None,
    **options: Unpack[AssistantOptions],
) -> AsyncGenerator[AssistantDelta, None]:
    """Return an async iterator of AssistantDeltas; the twin of stream_assistant()."""
    client = get_async_client()
    return client.stream_assistant(
        assistant_id, messages, max_retries=max_retries, **options
    )


def list_assistants(
    assistant_ids: Iterable[str] | None = None, *, max_retries: int | None = None
) -> list[AssistantInfo]:
    """Return the platform's assistant agents (all, or those in `assistant_ids`)."""
    return get_client().list_assistants(assistant_ids, max_retries=max_retries)


async def alist_assistants(
    assistant_ids: Iterable[str] | None = None, *, max_retries: int | None = None
) -> list[AssistantInfo]:
    """Return the platform's assistant agents; the async twin of list_assistants()."""
    return await get_async_client().list_assistants(
        assistant_ids, max_retries=max_retries
    )
