"""The shared base of the GLM client's two faces (client.py): no I/O here.

`BaseClient` turns each operation into a `Call` (method, path, encoded body, parser) and
turns responses into values or errors; `Client` and `AsyncClient` only send, sleep and
read, like httpx's own BaseClient/Client/AsyncClient split.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import orjson

from glmweb.zhipu import payloads, responses, retry
from glmweb.zhipu.errors import (
    APIResponseError,
    GLMError,
    error_class_for_status,
    error_fields,
    is_permanent_code,
)
from glmweb.zhipu.streams import EventStream
from glmweb.zhipu.transport import ClientConfig
from glmweb.zhipu.types import (
    AssistantInfo,
    AssistantReply,
    ChatCompletion,
    Message,
    VideoResult,
    VideoTask,
)

logger = logging.getLogger("glmweb.zhipu")

DEFAULT_CHAT_MODEL = "glm-4-flash"
DEFAULT_VIDEO_MODEL = "cogvideox-3"

T = TypeVar("T")

# The assistant API takes one text, or messages whose content is text or parts.
AssistantMessages = str | Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One operation, ready to send: both faces run the same Call."""

    method: str
    path: str
    body: bytes | None
    request_id: str | None  # the id we sent, if any: errors fall back to it
    parse: Callable[[Any, str | None], T]


class BaseClient:
    """Operations as data, and response handling; no I/O."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config

    # --- Calls -----------------------------------------------------------------

    def _chat_call(
        self,
        messages: Sequence[Message],
        model: str | None,
        stream: bool,
        options: dict[str, Any],
    ) -> Call[ChatCompletion]:
        body = payloads.chat_payload(
            messages, model=model or default_chat_model(), stream=stream, **options
        )
        return Call(
            "POST",
            payloads.CHAT_PATH,
            orjson.dumps(body),
            body.get("request_id"),
            responses.parse_chat_completion,
        )

    def _video_call(
        self, prompt: str | None, model: str | None, options: dict[str, Any]
    ) -> Call[VideoTask]:
        body = payloads.video_payload(
            prompt, model=model or default_video_model(), **options
        )
        return Call(
            "POST",
            payloads.VIDEO_PATH,
            orjson.dumps(body),
            body.get("request_id"),
            responses.parse_video_task,
        )

    def _video_result_call(self, task_id: str) -> Call[VideoResult]:
        path = payloads.ASYNC_RESULT_PATH + quote(task_id, safe="")
        return Call(
            "GET",
            path,
            None,
            None,
            lambda data, rid: responses.parse_video_result(data, task_id, rid),
        )

    def _assistant_call(
        self,
        assistant_id: str,
        messages: str | Sequence[Mapping[str, Any]],
        stream: bool,
        options: dict[str, Any],
    ) -> Call[AssistantReply]:
        body = payloads.assistant_payload(
            assistant_id, messages, stream=stream, **options
        )
        return Call(
            "POST",
            payloads.ASSISTANT_PATH,
            orjson.dumps(body),
            body.get("request_id"),
            responses.parse_assistant_reply,
        )

    def _assistant_list_call(
        self, assistant_ids: Iterable[str] | None
    ) -> Call[list[AssistantInfo]]:
        body = payloads.assistant_list_payload(assistant_ids)
        return Call(
            "POST",
            payloads.ASSISTANT_LIST_PATH,
            orjson.dumps(body),
            None,
            lambda data, rid: responses.parse_assistant_list(data),
        )

    # --- Responses -------------------------------------------------------------

    def _max_retries(self, override: int | None) -> int:
        return self.config.max_retries if override is None else max(0, override)

    def _status_error(self, response: httpx.Response, sent_id: str | None) -> GLMError:
        """Return the error for a >= 400 response whose body has been read."""
        try:
            body = orjson.loads(response.content)
        except (orjson.JSONDecodeError, httpx.ResponseNotRead):
            body = None
        code, said = error_fields(body)
        key = self.config.api_key
        if key and key in said:  # some gateways echo the Authorization header
            said = said.replace(key, "***")
        message = said or response.reason_phrase or "HTTP error"
        status = response.status_code
        return error_class_for_status(status, code)(
            message,
            status=status,
            code=code,
            request_id=_request_id(response, body, sent_id),
            platform_message=said,
            retry_after=retry.parse_retry_after(response.headers.get("retry-after")),
            # A code naming a lasting state (no balance) outranks the 429 it came with.
            retryable=not is_permanent_code(code)
            and retry.retryable_status(status, response.headers.get("x-should-retry")),
        )

    def _result(self, call: Call[T], response: httpx.Response) -> T:
        """Return the parsed value of a read response, or raise its GLMError."""
        if response.status_code >= 400:
            raise self._status_error(response, call.request_id)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise APIResponseError(
                f"response is not JSON ({len(response.content)} bytes)",
                status=response.status_code,
                request_id=_request_id(response, None, call.request_id),
            ) from None
        request_id = _request_id(response, data, call.request_id)
        logger.debug(
            "%s %s -> %s (request id %s)",
            call.method,
            call.path,
            response.status_code,
            request_id,
        )
        return call.parse(data, request_id)

    def _open_stream(
        self, call: Call[Any], response: httpx.Response, state_cls: type[EventStream[T]]
    ) -> EventStream[T]:
        logger.debug(
            "%s %s -> %s stream (request id %s)",
            call.method,
            call.path,
            response.status_code,
            response.headers.get("x-request-id"),
        )
        return state_cls(
            _request_id(response, None, call.request_id), response.status_code
        )

    def _stream_finished(self, call: Call[Any], state: EventStream[Any]) -> None:
        logger.debug(
            "%s %s stream complete (request id %s, %d events)",
            call.method,
            call.path,
            state.request_id,
            state.events,
        )

    def _retry_wait(
        self, call: Call[Any], exc: GLMError, attempt: int, max_retries: int
    ) -> float | None:
        """Return the seconds to wait before resending `call`, or None to give up."""
        if not retry.should_retry(exc.retryable, attempt, max_retries):
            logger.warning("%s %s failed: %s", call.method, call.path, exc)
            return None
        delay = retry.retry_delay(
            attempt + 1, exc.retry_after, self.config.retry_base_delay
        )
        logger.warning(
            "%s %s failed: %s; retry %d of %d in %.2f s",
            call.method,
            call.path,
            exc,
            attempt + 1,
            max_retries,
            delay,
        )
        return delay


def _request_id(response: httpx.Response, body: Any, sent_id: str | None) -> str | None:
    header = response.headers.get("x-request-id")
    if header:
        return header
    if isinstance(body, dict) and body.get("request_id"):
        return str(body["request_id"])
    return sent_id


def default_chat_model() -> str:
    """Return the chat model used when a call names none (settings may override)."""
    from django.conf import settings

    return getattr(settings, "ZHIPUAI_CHAT_MODEL", DEFAULT_CHAT_MODEL)


def default_video_model() -> str:
    """Return the video model used when a call names none (settings may override)."""
    from django.conf import settings

    return getattr(settings, "ZHIPUAI_VIDEO_MODEL", DEFAULT_VIDEO_MODEL)
