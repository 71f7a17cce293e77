"""The pooled clients: built from settings at first use, one per process and loop."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from glmweb import zhipu
from glmweb.zhipu import registry
from tests.zhipu.test_client_sync import say


def test_client_registry_returns_one_sync_client_per_process(glm_settings: Any) -> None:
    assert zhipu.get_client() is zhipu.get_client()


def test_client_registry_builds_from_settings_at_first_use(glm_settings: Any) -> None:
    glm_settings.ZHIPUAI_TIMEOUT = 12.0
    glm_settings.ZHIPUAI_CONNECT_TIMEOUT = 3.0
    glm_settings.ZHIPUAI_STREAM_IDLE_TIMEOUT = 4.0
    config = zhipu.get_client().config
    assert (config.timeout, config.connect_timeout, config.stream_idle_timeout) == (
        12,
        3,
        4,
    )
    assert config.request_timeout == httpx.Timeout(12.0, connect=3.0)
    assert config.stream_timeout == httpx.Timeout(12.0, connect=3.0, read=4.0)
    assert config.base_url == glm_settings.ZHIPUAI_BASE_URL


def test_client_registry_setting_change_replaces_the_client(glm_settings: Any) -> None:
    before = zhipu.get_client()
    glm_settings.ZHIPUAI_MAX_RETRIES = 5
    after = zhipu.get_client()
    assert after is not before and after.config.max_retries == 5


def test_client_registry_reset_clients_forgets_the_client(glm_settings: Any) -> None:
    before = zhipu.get_client()
    zhipu.reset_clients()
    assert zhipu.get_client() is not before


def test_client_registry_forked_process_gets_its_own_client(
    glm_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = zhipu.get_client()
    monkeypatch.setattr(os, "getpid", lambda: -1)
    assert zhipu.get_client() is not parent


def test_client_registry_async_client_needs_a_running_loop(glm_settings: Any) -> None:
    with pytest.raises(RuntimeError):
        zhipu.get_async_client()


@pytest.mark.parametrize(
    ("name", "transport"),
    [("aiohttp", AiohttpTransport), ("httpx", httpx.AsyncHTTPTransport)],
)
async def test_client_registry_async_transport_follows_the_setting(
    glm_settings: Any, name: str, transport: type
) -> None:
    glm_settings.ZHIPUAI_ASYNC_TRANSPORT = name
    client = zhipu.get_async_client()
    assert type(client._http._transport) is transport
    assert client is zhipu.get_async_client()


def test_client_registry_sync_face_uses_httpx_transport(glm_settings: Any) -> None:
    glm_settings.ZHIPUAI_ASYNC_TRANSPORT = "aiohttp"
    assert type(zhipu.get_client()._http._transport) is httpx.HTTPTransport


async def test_client_registry_each_event_loop_gets_its_own_async_client(
    glm_settings: Any,
) -> None:
    mine = zhipu.get_async_client()
    other: dict[str, Any] = {}

    async def on_other_loop() -> None:
        other["client"] = zhipu.get_async_client()
        messages, tag = say()
        other["ok"] = tag in (await zhipu.achat(messages)).content
        await zhipu.aclose_clients()

    thread = threading.Thread(target=lambda: asyncio.run(on_other_loop()))
    thread.start()
    thread.join(timeout=30)
    assert other["client"] is not mine and other["ok"]
    assert zhipu.get_async_client() is mine  # this loop's client is untouched


def test_client_registry_drops_clients_of_closed_loops(glm_settings: Any) -> None:
    async def build() -> zhipu.AsyncClient:
        return zhipu.get_async_client()

    loop = asyncio.new_event_loop()
    loop.run_until_complete(build())
    loop.close()
    asyncio.run(build())
    assert loop not in registry._async_clients
