"""What the rest of the app asks of the engine about a user's sockets: check their
sessions (chat.socket_sessions decides what ends one; the hub knows the sockets)."""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from chat.replies import engine, relay

logger = logging.getLogger(__name__)


async def arecheck_user_sockets(user_id: int, ended_session: str = "") -> None:
    """Have every socket of the user, in every process, check its session now; a
    socket whose session no longer signs the user in closes (4401). The socket of
    `ended_session` (a chat.socket_sessions.session_digest) closes without a check."""
    hub = engine.running_hub()
    if hub is not None:
        await hub.recheck_user(user_id, ended_session)
    elif settings.REDIS_URL:
        await asyncio.to_thread(publish_user_recheck, user_id, ended_session)


def hub_loop() -> asyncio.AbstractEventLoop | None:
    """Return the event loop of this process's reply engine, if one was started
    (callable from any thread)."""
    hub = engine.current_hub()
    return hub.loop if hub is not None and hub.started else None


def publish_user_recheck(user_id: int, ended_session: str = "") -> None:
    """Tell the other processes (with REDIS_URL) to check the user's sockets, from a
    process with no engine running (sync)."""
    if not settings.REDIS_URL:
        return
    payload = relay.sessions_payload(user_id, ended_session)
    try:
        relay.publish_once(
            settings.REDIS_URL, relay.USERS, relay.Kind.SESSIONS, payload
        )
    except Exception:
        # The sockets elsewhere still check every GLMWEB_SOCKET_SESSION_CHECK_SECONDS.
        logger.exception("telling other processes about user %s failed", user_id)
