"""The blocking face of the GLM client, for Celery tasks and management commands.

`Client` and `AsyncClient` (async_client.py) run the same `Call`s from base.py and
differ only in how they send, sleep and read. Get pooled instances from `get_client()`
/ `get_async_client()` (registry.py).

Retry rule, the same in both: a failure marked `retryable` (connect errors, 429, 500,
502, 503, 504) is resent up to `max_retries` times with backoff (retry.py); a stream is
never resent once it has delivered a delta to the caller.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
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


class Client(BaseClient):
    """The blocking face, for Celery tasks and management commands."""

    def __init__(
        self, config: ClientConfig, *, http: httpx.Client | None = None
    ) -> None:
        super().__init__(config)
        self._http = http or transport.build_sync_http(config)

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def chat(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        max_retries: int | None = None,
        **options: Unpack[ChatOptions],
    ) -> ChatCompletion:
        """Return the whole reply to `messages`; raise GLMError on failure."""
        return self._run(
            self._chat_call(messages, model, False, dict(options)), max_retries
        )

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        max_retries: int | None = None,
        **options: Unpack[ChatOptions],
    ) -> Iterator[ChatDelta]:
        """Return an iterator of the reply's ChatDeltas; it raises GLMError."""
        call = self._chat_call(messages, model, True, dict(options))
        return self._stream(call, ChatStream, max_retries)

    def submit_video(
        self,
        prompt: str | None,
        *,
        model: str | None = None,
        max_retries: int | None = None,
        **options: Unpack[VideoOptions],
    ) -> VideoTask:
        """Start a video generation and return its VideoTask; raise GLMError."""
        return self._run(self._video_call(prompt, model, dict(options)), max_retries)

    def get_video_result(
        self, task_id: str, *, max_retries: int | None = None
    ) -> VideoResult:
        """Return the current VideoResult of `task_id`; raise GLMError on failure."""
        return self._run(self._video_result_call(task_id), max_retries)

    def assistant_chat(
        self,
        assistant_id: str,
        messages: AssistantMessages,
        *,
        max_retries: int | None = None,
        **options: Unpack[AssistantOptions],
    ) -> AssistantReply:
        """Return an assistant agent's whole reply; raise GLMError on failure."""
        call = self._assistant_call(assistant_id, messages, False, dict(options))
        return self._run(call, max_retries)

    def stream_assistant(
        self,
        assistant_id: str,
        messages: AssistantMessages,
        *,
        max_retries: int | None = None,
        **options: Unpack[AssistantOptions],
    ) -> Iterator[AssistantDelta]:
        """Return an iterator of an assistant's AssistantDeltas; it raises GLMError."""
        call = self._assistant_call(assistant_id, messages, True, dict(options))
        return self._stream(call, AssistantStream, max_retries)

    def list_assistants(
        self,
        assistant_ids: Iterable[str] | None = None,
        *,
        max_retries: int | None = None,
    ) -> list[AssistantInfo]:
        """Return the platform's assistant agents; raise GLMError on failure."""
        return self._run(self._assistant_list_call(assistant_ids), max_retries)

    def _run(self, call: Call[T], max_retries: int | None) -> T:
        retries = self._max_retries(max_retries)
        attempt = 0
        while True:
            try:
                try:
                    response = self._http.request(
                        call.method, call.path, content=call.body
                    )
                except SYNC_ERRORS as exc:
                    raise transport.request_error(exc, call.request_id) from exc
                return self._result(call, response)
            except GLMError as exc:
                delay = self._retry_wait(call, exc, attempt, retries)
                if delay is None:
                    raise
            time.sleep(delay)
            attempt += 1

    def _stream(
        self, call: Call[Any], state_cls: type[EventStream[T]], max_retries: int | None
    ) -> Iterator[T]:
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
                    response = self._http.send(request, stream=True)
                except SYNC_ERRORS as exc:
                    raise transport.request_error(exc, call.request_id) from exc
                try:
                    if response.status_code >= 400:
                        _read_quietly(response)
                        raise self._status_error(response, call.request_id)
                    state = self._open_stream(call, response, state_cls)
                    try:
                        for chunk in response.iter_bytes():
                            yield from state.feed(chunk)
                    except SYNC_ERRORS as exc:
                        idle = self.config.stream_idle_timeout
                        raise state.attach(transport.body_error(exc, idle)) from exc
                    state.finish()
                    self._stream_finished(call, state)
                    return
                finally:
                    response.close()
            except GLMError as exc:
                allowed = 0 if state is not None and state.delivered else retries
                delay = self._retry_wait(call, exc, attempt, allowed)
                if delay is None:
                    raise
            time.sleep(delay)
            attempt += 1


def _read_quietly(response: httpx.Response) -> None:
    # An error body that breaks off still leaves the status to classify by.
    try:
        response.read()
    except SYNC_ERRORS:
        pass
