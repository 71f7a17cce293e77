"""How a reply's stream ended, gathered while it runs: one rule for every runner.

A runner (chat/replies/runner.py for the chat models, assistant_runner.py for the
platform's agents) streams inside `Ending.guard` (which turns what the stream raises
into the ending), feeds each delta to `Ending.note`, then asks `settle` for the status
to save and `error_fields` for the outcome's error columns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypedDict

from chat.models import Message
from chat.replies.live import LiveReply
from glmweb import zhipu

logger = logging.getLogger(__name__)

# finish_reason values that end a reply with an error rather than a remark
# (zhipu-api.md §2.3): the content filter, and the platform losing the model.
FINISH_ERRORS = {"sensitive": "content_blocked", "network_error": "network_error"}


class ErrorFields(TypedDict):
    error_code: str
    error_upstream_code: str
    error_message: str
    error_detail: str
    request_id: str


@dataclass
class Ending:
    status: str = Message.Status.COMPLETE
    error: zhipu.GLMError | None = None
    error_code: str = ""
    usage: zhipu.Usage | None = None
    request_id: str = ""
    finish_reason: str = ""

    @contextlib.asynccontextmanager
    async def guard(self, live: LiveReply, what: str) -> AsyncIterator[None]:
        """Run a reply's stream; what it raises becomes the ending, except a
        cancellation the hub did not ask for, which goes on (recovery marks that
        reply interrupted)."""
        try:
            yield
        except asyncio.CancelledError:
            if not live.stop_requested:
                raise
            self.cancelled(live)
        except zhipu.GLMError as exc:
            self.failed(exc)
        except Exception:
            logger.exception("%s %s failed", what, live.message_id)
            self.crashed()

    def note(self, delta: Any) -> None:
        """Keep what a delta says about the end (usage, request id, finish reason)."""
        if delta.usage is not None:
            self.usage = delta.usage
        if delta.request_id:
            self.request_id = delta.request_id
        if delta.finish_reason:
            self.finish_reason = delta.finish_reason
            self.error_code = FINISH_ERRORS.get(delta.finish_reason, self.error_code)

    def cancelled(self, live: LiveReply) -> None:
        """The hub cancelled the stream (the caller re-raises any other
        cancellation): a server shutting down saves it interrupted with all its
        text (server_restarted, retryable); a user's stop saves it stopped."""
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        if live.shutting_down:
            self.error_code = "server_restarted"
        else:
            self.status = Message.Status.STOPPED

    def failed(self, exc: zhipu.GLMError) -> None:
        self.error = exc
        self.error_code = exc.kind

    def crashed(self) -> None:
        """A bug of ours (logged by the caller): a generic, retryable error."""
        self.error_code = "error"

    def settle(self, has_text: bool) -> str:
        """Return the status to save: a failure after text is `interrupted` (the text
        kept), before any text `error`; a stop stays `stopped`."""
        if self.error_code and self.status != Message.Status.STOPPED:
            self.status = (
                Message.Status.INTERRUPTED if has_text else Message.Status.ERROR
            )
        return self.status

    def error_fields(self) -> ErrorFields:
        """Return the ReplyOutcome's error columns and request id."""
        error = self.error
        return {
            "error_code": self.error_code
            if self.status != Message.Status.STOPPED
            else "",
            "error_upstream_code": (error.code or "") if error else "",
            "error_message": error.message if error else "",
            "error_detail": error.platform_message if error else "",
            "request_id": (error.request_id if error else None)
            or self.request_id
            or "",
        }
