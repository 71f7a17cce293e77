"""This process's reply engine: one Hub per event loop, started on first use.

The public face of chat.replies (re-exported there) is start, the socket's commands
(chat.replies.commands) and shutdown. The server process reaches shutdown through
chat.apps.ChatConfig.ashutdown, not through this module.
"""

from __future__ import annotations

import asyncio

from chat.replies import recovery
from chat.replies.hub import Hub

_hub: Hub | None = None


async def ahub() -> Hub:
    """Return this process's started hub (a new one if the event loop changed)."""
    global _hub
    if _hub is None or _hub.loop is not asyncio.get_running_loop():
        _hub = Hub(sweep=recovery.asweep)
    if not _hub.started:
        await _hub.start()
    return _hub


def running_hub() -> Hub | None:
    """Return the hub of this event loop if one was started, without starting one."""
    if _hub is not None and _hub.loop is asyncio.get_running_loop():
        return _hub
    return None


def current_hub() -> Hub | None:
    """Return this process's hub whatever the thread asking (signals run in
    threads); None before the first socket."""
    return _hub


async def astart() -> None:
    """Start the engine: the relay (with REDIS_URL), the heartbeat and the recovery
    sweep. Sockets start it on first use; calling it again does nothing."""
    await ahub()


async def ashutdown(grace: float = 5.0) -> None:
    """Save every running reply as interrupted (`server_restarted`) with all its text,
    waiting up to `grace` seconds for the saves, then stop the engine's background
    work. Called when the process is told to stop (and by the tests, after each); a
    later call of any other function starts a new engine."""
    global _hub
    hub = running_hub()
    if hub is None:
        return
    await hub.shutdown(grace)
    await hub.close()
    if _hub is hub:
        _hub = None
