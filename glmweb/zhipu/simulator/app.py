"""The ASGI application: routing, the request log, auth, and platform error replies.

API paths live under /api/paas/v4/ and need a bearer token, like the platform; the
simulator's own endpoints live under /_sim/ and need none.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from . import assistant, chat, jobs, video
from .auth import authenticate
from .config import SimulatorConfig
from .directives import FailureCounter
from .errors import PlatformError, platform_error
from .http import (
    JSON_CONTENT_TYPE,
    DroppedConnection,
    Receive,
    Request,
    Scope,
    Send,
    parse_json,
    read_body,
    send_bytes,
    send_error,
    send_json,
)
from .requestlog import RequestLog

API_PREFIX = "/api/paas/v4/"
SIM_PREFIX = "/_sim/"
log = logging.getLogger(__name__)


@dataclass
class SimulatorState:
    config: SimulatorConfig
    requests: RequestLog = field(default_factory=RequestLog)
    jobs: jobs.JobStore = field(default_factory=jobs.JobStore)
    failures: FailureCounter = field(default_factory=FailureCounter)
    conversations: assistant.ConversationStore = field(
        default_factory=assistant.ConversationStore
    )


Handler = Callable[[Request, Send, SimulatorState], Awaitable[None]]

API_ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "chat/completions"): chat.create_completion,
    ("POST", "async/chat/completions"): chat.create_async_completion,
    ("POST", "videos/generations"): video.create_generation,
    ("POST", "assistant"): assistant.converse,
    ("POST", "assistant/list"): assistant.list_assistants,
    ("POST", "assistant/conversation/list"): assistant.list_conversations,
}


async def _async_result(request: Request, send: Send, state: SimulatorState) -> None:
    await jobs.get_async_result(request, send, state.jobs)


def _api_handler(method: str, path: str) -> Handler | None:
    if method == "GET" and path.startswith("async-result/"):
        return _async_result
    return API_ROUTES.get((method, path))


class SimulatorApp:
    """ASGI 3 callable; one instance holds all the simulator's in-memory state."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.state = SimulatorState(config or SimulatorConfig())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan and websockets: nothing to set up, nothing to serve
        raw_path: str = scope["path"]
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        body = await read_body(receive)
        host = headers.get("host") or "%s:%s" % tuple(
            scope.get("server") or ("127.0.0.1", 80)
        )
        request = Request(
            method=scope["method"],
            path=raw_path.strip("/"),
            headers=headers,
            body=body,
            root=f"{scope.get('scheme', 'http')}://{host}",
            receive=receive,
        )
        try:
            if raw_path.startswith(API_PREFIX):
                request.path = raw_path[len(API_PREFIX) :].strip("/")
                request.json, request.json_error = parse_json(body)
                self.state.requests.record(
                    request.method, raw_path, headers, request.json
                )
                await self._api(request, send)
            elif raw_path.startswith(SIM_PREFIX):
                await self._simulator(request, send)
            else:
                raise platform_error("1222")
        except PlatformError as error:
            await send_error(send, error)
        except DroppedConnection:
            raise
        except Exception:
            log.exception("simulator failed on %s %s", request.method, raw_path)
            await send_error(send, platform_error("500"))

    async def _api(self, request: Request, send: Send) -> None:
        authenticate(request.headers.get("authorization"), self.state.config)
        handler = _api_handler(request.method, request.path)
        if handler is None:
            raise platform_error("1222")
        await handler(request, send, self.state)

    async def _simulator(self, request: Request, send: Send) -> None:
        path, method = request.path, request.method
        if path == "_sim/requests" and method == "GET":
            entries = orjson.dumps(self.state.requests.entries())
            await send_bytes(send, 200, entries, JSON_CONTENT_TYPE)
        elif path == "_sim/requests" and method == "DELETE":
            self.state.requests.clear()
            await send_json(send, {"cleared": True})
        elif path == "_sim/health" and method == "GET":
            await send_json(send, {"status": "ok"})
        elif path.startswith("_sim/media/") and method == "GET":
            await video.serve_media(request, send, self.state)
        else:
            raise platform_error("1222")
