"""The server's own `send` for a websocket, kept in the scope for the hot path.

Channels hands a consumer a `send` wrapped by every middleware above it; of those,
SessionMiddleware's wrapper runs on every message (it looks at the session to decide
whether an HTTP response must save it, which a websocket frame never is). The reply
engine sends a socket tens of frames a second (chat.replies.hub), so that wrapper was
about 4 % of the event loop's time at 200 streams (docs/performance.md). The handshake,
accept and close still go through Channels; only reply frames take the server's
`send` as the ASGI server gave it, so this works under any ASGI server.
"""

from __future__ import annotations

from typing import Any

from channels.middleware import BaseMiddleware

SCOPE_KEY = "glmweb.server_send"


class KeepServerSend(BaseMiddleware):
    """Outermost websocket middleware: put the server's `send` in the scope."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        return await self.inner({**scope, SCOPE_KEY: send}, receive, send)
