"""The asyncio face of the GLM client, for consumers and async services.

The twin of client.py's `Client`: same Calls, same retry rule, awaited I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable, Sequence
from typing import Any, TypeVar

import httpx
from typing_extensions import Unpack

from glmweb.zhipu import transport
from glmweb.zhipu.base import AssistantMessages, BaseClient, Call
from glmweb.zhipu.errors import GLMError
from glmweb.zhipu.payloads import AssistantOptions, ChatOptions, VideoOptions
from glmweb.zhipu.streams import AssistantStream, ChatStream, EventStream
from glmweb.zhipu.transport import SYNC_ERRORS, ClientConfig
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

T = TypeVar("T")


class AsyncClient(BaseClient):
    """The asyncio face, for consumers and async services; bound to one event loop."""

    def __init__(
        self, config: ClientConfig, *, http: httpx.AsyncClient | None = None
    ) -> None:
        super().__init__(config)
        if http is None:
            http, self._errors = transport.build_async_http(config)
        else:
            self._errors = SYNC_ERRORS
        self._http = http

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    async def chat(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        max_retries: int | None = None,
        **options: Unpack[ChatOptions],
    ) -> ChatCompletion:
        """Return the whole reply to `messages`; raise GLMError on failure."""
        return await self._run(
            self._chat_call(messages, model, False, dict(options)), max_retries
        )

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        max_retries: int | None = None,
        **options: Unpack[ChatOptions],
    ) -> AsyncGenerator[ChatDelta, None]:
        """Return an async iterator of the reply's ChatDeltas; it raises GLMError."""
        call = self._chat_call(messages, model, True, dict(options))
        return self._stream(call, ChatStream, max_retries)

    async def submit_video(
        self,
        prompt: str | None,
        *,
        model: str | None = None,
        max_retries: int | None = None,
        **options: Unpack[VideoOptions],
    ) -> VideoTask:
        """Start a video generation and return its VideoTask; raise GLMError."""
        return await self._run(
            self._video_call(prompt, model, dict(options)), max_retries
        )

    async def get_video_result(
        self, task_id: str, *, max_retries: int | None = None
    ) -> VideoResult:
        """Return the current VideoResult of `task_id`; raise GLMError on failure."""
        return await self._run(self._video_result_call(task_id), max_retries)

    async def assistant_chat(
        self,
        assistant_id: str,
        messages: AssistantMessages,
        *,
        max_retries: int | None = None,
        **options: Unpack[AssistantOptions],
    ) -> AssistantReply:
        """Return an assistant agent's whole reply; raise GLMError on failure."""
        call = self._assistant_call(assistant_id, messages, False, dict(options))
        return await self._run(call, max_retries)

    def stream_assistant(
        self,
        assistant_id: str,
        messages: AssistantMessages,
        *,
        max_retries: int | None = None,
        **options: Unpack[AssistantOptions],
    ) -> AsyncGenerator[AssistantDelta, None]:
        """Return an async iterator of AssistantDeltas; it raises GLMError."""
        call = self._assistant_call(assistant_id, messages, True, dict(options))
        return self._stream(call, AssistantStream, max_retries)

    async def list_assistants(
        self,
        assistant_ids: Iterable[str] | None = None,
        *,
        max_retries: int | None = None,
    ) -> list[AssistantInfo]:
        """Return the platform's assistant agents; raise GLMError on failure."""
        return await self._run(self._assistant_list_call(assistant_ids), max_retries)

    async def _run(self, call: Call[T], max_retries: int | None) -> T:
        retries = self._max_retries(max_retries)
        attempt = 0
        while True:
            try:
                try:
                    response = await self._http.request(
                        call.method, call.path, content=call.body
                    )
                except self._errors as exc:
                    raise transport.request_error(exc, call.request_id) from exc
                return self._result(call, response)
            except GLMError as exc:
                delay = self._retry_wait(call, exc, attempt, retries)
                if delay is None:
                    raise
            await asyncio.sleep(delay)
            attempt += 1

    async def _stream(
        self, call: Call[Any], state_cls: type[EventStream[T]], max_retries: int | None
    ) -> AsyncGenerator[T, None]:
        retries = self._max_retries(max_retries)
        timeout = self.config.stream_timeout
        attempt = 0
        while True:
            state: EventStream[T] | None = None
            try:
                request = self._http.build_request(
                    call.method, call.path, content=call.body, timeout=timeout
                )
                try:
                    response = await self._http.send(request, stream=True)
                except self._errors as exc:
                    raise transport.request_error(exc, call.request_id) from exc
                try:
                    if response.status_code >= 400:
                        await _aread_quietly(response, self._errors)
                        raise self._status_error(response, call.request_id)
                    state = self._open_stream(call, response, state_cls)
                    try:
                        async for chunk in response.aiter_bytes():
                            for item in state.feed(chunk):
                                yield item
                    except self._errors as exc:
                        idle = self.config.stream_idle_timeout
                        raise state.attach(transport.body_error(exc, idle)) from exc
                    state.finish()
                    self._stream_finished(call, state)
                    return
                finally:
                    await response.aclose()
            except GLMError as exc:
                allowed = 0 if state is not None and state.delivered else retries
                delay = self._retry_wait(call, exc, attempt, allowed)
                if delay is None:
                    raise
            await asyncio.sleep(delay)
            attempt += 1


async def _aread_quietly(
    response: httpx.Response, errors: tuple[type[BaseException], ...]
) -> None:
    try:
        await response.aread()
    except errors:
        pass
