"""The state of one streamed reply: SSE events in, deltas out (pure, shared).

A face feeds every network read to `feed()`, yields what it returns, and calls
`finish()` at the end of the body. The state keeps the text delivered so far, so any
error raised mid-stream carries it (`partial_content`, `partial_reasoning`), and it
knows whether anything was delivered, which decides whether a retry is still allowed.

Hot path (one call per token): one orjson.loads of the event's bytes, a few dict
lookups, one small slotted ChatDelta. Events that carry nothing for the caller (the
role-only first chunk) produce no delta at all.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import orjson

from glmweb.zhipu.errors import (
    APIInternalError,
    APIReachLimitError,
    APIServerFlowExceedError,
    APIStreamError,
    GLMError,
    StreamInterruptedError,
    error_class_for_code,
    error_fields,
)
from glmweb.zhipu.responses import parse_tool_calls, parse_usage, parse_web_search
from glmweb.zhipu.sse import SSEDecoder, SSEEvent
from glmweb.zhipu.types import AssistantDelta, AssistantToolCall, ChatDelta

_RETRYABLE_IN_STREAM = (APIReachLimitError, APIInternalError, APIServerFlowExceedError)

T = TypeVar("T")


class EventStream(Generic[T]):
    """Base of the per-reply stream states; subclasses turn one JSON object into a T."""

    __slots__ = (
        "_sse",
        "_content",
        "_reasoning",
        "_error",
        "_events",
        "done",
        "finished",
        "delivered",
        "request_id",
        "http_status",
    )

    def __init__(self, request_id: str | None = None, http_status: int = 200) -> None:
        self._sse = SSEDecoder()
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._error: GLMError | None = None
        self._events = 0
        self.done = False  # saw the end marker
        # Saw a finish_reason: the platform declared the reply whole, so a body that
        # then ends without [DONE] has lost nothing.
        self.finished = False
        self.delivered = False  # returned a delta: from now on the call is not retried
        self.request_id = request_id
        self.http_status = http_status

    def feed(self, chunk: bytes) -> list[T]:
        """Return the deltas completed by `chunk`; raise GLMError for a bad stream.

        When a read holds good events and then a bad one, the good deltas are returned
        and the error is raised on the next call, so the caller sees all the text.
        """
        if self._error is not None:
            raise self._error
        out: list[T] = []
        for event in self._sse.feed(chunk):
            if self.done:
                break  # nothing after the end marker counts
            try:
                item = self._event(event)
            except GLMError as exc:
                self.attach(exc)
                if not out:
                    raise
                self._error = exc
                break
            if item is not None:
                out.append(item)
        if out:
            self.delivered = True
        return out

    def finish(self) -> None:
        """Check the body ended properly; raise StreamInterruptedError if it did not."""
        if self._error is not None:
            raise self._error
        if not (self.done or self.finished):
            where = (
                " in the middle of an event" if self._sse.has_unfinished_event else ""
            )
            raise self.attach(
                StreamInterruptedError(
                    f"the stream ended{where} without its end marker after "
                    f"{self._events} events",
                    status=self.http_status,
                )
            )

    @property
    def events(self) -> int:
        """Return how many events the stream has carried so far."""
        return self._events

    def attach(self, exc: GLMError) -> GLMError:
        """Put the text delivered so far and the request id on `exc`; return it."""
        exc.partial_content = "".join(self._content)
        exc.partial_reasoning = "".join(self._reasoning)
        if exc.request_id is None:
            exc.request_id = self.request_id
        return exc

    def _event(self, event: SSEEvent) -> T | None:
        self._events += 1
        data = event.data
        if data == b"[DONE]":
            self.done = True
            return None
        if event.event != "message":
            if event.event == "error":
                raise self._error_event(data)
            return None  # named events we do not know are not for us
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise APIStreamError(
                f"malformed JSON in stream event {self._events} ({len(data)} bytes)",
                status=self.http_status,
            ) from None
        if type(obj) is not dict:
            raise APIStreamError(
                f"stream event {self._events} is not a JSON object",
                status=self.http_status,
            )
        if obj.get("error"):
            raise self._error_object(obj)
        return self._parse(obj)

    def _parse(self, obj: dict[str, Any]) -> T | None:
        raise NotImplementedError

    def _error_event(self, data: bytes) -> GLMError:
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            obj = {"error": {"message": data[:200].decode("utf-8", "replace")}}
        if not isinstance(obj, dict) or not obj.get("error"):
            obj = {"error": obj if isinstance(obj, dict) else {"message": str(obj)}}
        return self._error_object(obj)

    def _error_object(self, obj: dict[str, Any]) -> GLMError:
        code, message = error_fields(obj)
        cls = error_class_for_code(code)
        return cls(
            message or "error event inside the stream",
            status=self.http_status,
            code=code,
            request_id=obj.get("request_id") or self.request_id,
            platform_message=message,
            retryable=issubclass(cls, _RETRYABLE_IN_STREAM),
        )


class ChatStream(EventStream[ChatDelta]):
    """A streamed chat/completions reply."""

    __slots__ = ()

    def _parse(self, obj: dict[str, Any]) -> ChatDelta | None:
        content = reasoning = ""
        finish_reason = None
        choices = obj.get("choices")
        if choices:
            choice = choices[0]
            delta = choice.get("delta")
            if delta:
                content = delta.get("content") or ""
                reasoning = delta.get("reasoning_content") or ""
            finish_reason = choice.get("finish_reason")
        usage = obj.get("usage")
        web_search = obj.get("web_search")
        if not (content or reasoning or finish_reason or usage or web_search):
            return None
        request_id = obj.get("request_id") or obj.get("id")
        if request_id:
            self.request_id = request_id
        if content:
            self._content.append(content)
        if reasoning:
            self._reasoning.append(reasoning)
        if finish_reason:
            self.finished = True
        return ChatDelta(
            content,
            reasoning,
            finish_reason,
            parse_usage(usage) if usage else None,
            parse_web_search(web_search) if web_search else None,
            self.request_id,
        )


class AssistantStream(EventStream[AssistantDelta]):
    """A streamed glm-4-assistant reply; ends with [DONE] or status "completed"."""

    __slots__ = ()

    def _parse(self, obj: dict[str, Any]) -> AssistantDelta | None:
        status = obj.get("status")
        if status == "failed":
            raise self._error_object({**obj, "error": obj.get("last_error") or {}})
        request_id = obj.get("request_id") or obj.get("id")
        if request_id:
            self.request_id = request_id
        content: list[str] = []
        tool_calls: tuple[AssistantToolCall, ...] = ()
        finish_reason = None
        for choice in obj.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("type", "content") == "content" and delta.get("content"):
                content.append(delta["content"])
            elif delta.get("tool_calls"):
                tool_calls += parse_tool_calls(delta["tool_calls"])
            finish_reason = choice.get("finish_reason") or finish_reason
        if status == "completed":
            self.done = True
        text = "".join(content)
        if text:
            self._content.append(text)
        usage = obj.get("usage")
        if not (text or tool_calls or finish_reason or usage):
            return None
        return AssistantDelta(
            content=text,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            status=status,
            conversation_id=obj.get("conversation_id"),
            usage=parse_usage(usage),
            request_id=self.request_id,
        )
