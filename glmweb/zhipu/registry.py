"""The pooled clients: one sync client per process, one async client per event loop.

Settings are read when a client is built, never at import. Changing any ZHIPUAI_*
setting through Django's override machinery (override_settings, pytest-django's
`settings` fixture) sends `setting_changed`, which drops the cached clients, so tests
need no manual reset; `reset_clients()` does the same by hand.

Why per loop: an httpx.AsyncClient's pool (and the aiohttp session under it) belongs to
the loop of its first request. Daphne/uvicorn run one loop, so a server process has one
async client; a test run or `async_to_sync` may run others, and each gets its own.
Why per pid: a client inherited through fork (Celery's prefork pool) would share its
sockets with the parent.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from glmweb.zhipu.async_client import AsyncClient
from glmweb.zhipu.client import Client
from glmweb.zhipu.transport import ClientConfig

_lock = threading.Lock()
_sync_client: tuple[int, Client] | None = None
_async_clients: dict[asyncio.AbstractEventLoop, AsyncClient] = {}
_closing: set[asyncio.Task[None]] = set()  # keeps close tasks alive until they finish


def get_client() -> Client:
    """Return this process's pooled blocking client, building it from settings once."""
    global _sync_client
    cached = _sync_client
    pid = os.getpid()
    if cached is not None and cached[0] == pid:
        return cached[1]
    with _lock:
        if _sync_client is None or _sync_client[0] != pid:
            _sync_client = (pid, Client(ClientConfig.from_settings()))
        return _sync_client[1]


def get_async_client() -> AsyncClient:
    """Return the running event loop's pooled async client, building it once per loop.

    Raises RuntimeError when no event loop is running.
    """
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is not None:
        return client
    with _lock:
        for old in [old for old in _async_clients if old.is_closed()]:
            del _async_clients[old]  # its connections died with the loop
        client = _async_clients.get(loop)
        if client is None:
            client = _async_clients[loop] = AsyncClient(ClientConfig.from_settings())
        return client


def reset_clients() -> None:
    """Forget every cached client so the next get_*client() reads settings afresh.

    The sync client is closed now; each async client is closed on its own loop as soon
    as that loop runs (a client cannot be closed from another loop).
    """
    global _sync_client
    with _lock:
        sync, _sync_client = _sync_client, None
        async_clients = list(_async_clients.items())
        _async_clients.clear()
    if sync is not None and sync[0] == os.getpid():
        sync[1].close()
    for loop, client in async_clients:
        _close_on_loop(loop, client)


async def aclose_clients() -> None:
    """Close and forget the running loop's async client (for a clean shutdown)."""
    with _lock:
        client = _async_clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


def _close_on_loop(loop: asyncio.AbstractEventLoop, client: AsyncClient) -> None:
    if loop.is_closed():
        return

    def spawn() -> None:
        task = loop.create_task(client.aclose())
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    try:
        loop.call_soon_threadsafe(spawn)
    except RuntimeError:  # the loop closed meanwhile
        pass


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("ZHIPUAI_"):
        reset_clients()
