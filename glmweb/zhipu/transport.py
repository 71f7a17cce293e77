"""Client configuration, the pooled httpx clients, and transport-failure translation.

The one place that picks the network transport: the sync face uses httpx's own; the
async face uses aiohttp through httpx-aiohttp when ZHIPUAI_ASYNC_TRANSPORT is "aiohttp"
(measured about 100 us less CPU per streamed token), httpx's own otherwise.

Timeouts: non-streamed calls get the SDK's 300 s read / 8 s connect. Streamed calls get
the same connect timeout but ZHIPUAI_STREAM_IDLE_TIMEOUT as their read timeout, which
both transports apply to every socket read (httpx per read; httpx-aiohttp maps `read`
to aiohttp's `sock_read`), so a stalled stream fails after the idle limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from glmweb.zhipu import retry
from glmweb.zhipu.errors import (
    APIConnectionError,
    APITimeoutError,
    GLMError,
    StreamInterruptedError,
)

# Sent as the bearer key when no API key is configured: the app then talks to the local
# simulator, which accepts any well-formed key.
SIMULATOR_KEY = "simulator.local"

# One process streams up to a few hundred replies at once; the SDK's 50 connections
# would queue the rest behind the pool timeout.
POOL_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)

# What httpx's own transports raise; OSError because a socket error can escape raw.
SYNC_ERRORS: tuple[type[BaseException], ...] = (httpx.HTTPError, OSError)

# Failures before a byte of the request was written: no connection, or none free.
_NOT_SENT: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
    ConnectionRefusedError,
)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything a client is built from; `from_settings()` reads the ZHIPUAI_* ones."""

    base_url: str
    api_key: str = field(default=SIMULATOR_KEY, repr=False)  # never in reprs or logs
    timeout: float = 300.0
    connect_timeout: float = 8.0
    stream_idle_timeout: float = 60.0
    max_retries: int = 3
    async_transport: str = "aiohttp"
    retry_base_delay: float = retry.RETRY_BASE_DELAY

    @classmethod
    def from_settings(cls, **overrides: Any) -> ClientConfig:
        """Return the config the Django settings describe, with `overrides` applied."""
        from django.conf import settings

        values: dict[str, Any] = {
            "base_url": settings.ZHIPUAI_BASE_URL,
            "api_key": settings.ZHIPUAI_API_KEY or SIMULATOR_KEY,
            "timeout": settings.ZHIPUAI_TIMEOUT,
            "connect_timeout": settings.ZHIPUAI_CONNECT_TIMEOUT,
            "stream_idle_timeout": settings.ZHIPUAI_STREAM_IDLE_TIMEOUT,
            "max_retries": settings.ZHIPUAI_MAX_RETRIES,
            "async_transport": settings.ZHIPUAI_ASYNC_TRANSPORT,
            # Looked up now, not at import, so tests can shrink it with monkeypatch.
            "retry_base_delay": retry.RETRY_BASE_DELAY,
        }
        values.update(overrides)
        return cls(**values)

    @property
    def request_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=self.connect_timeout)

    @property
    def stream_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            self.timeout, connect=self.connect_timeout, read=self.stream_idle_timeout
        )

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "Content-Type": "application/json; charset=UTF-8",
        }


def build_sync_http(config: ClientConfig) -> httpx.Client:
    """Return a pooled httpx.Client for `config` on httpx's own transport."""
    return httpx.Client(
        base_url=config.base_url,
        headers=config.headers(),
        timeout=config.request_timeout,
        limits=POOL_LIMITS,
    )


def build_async_http(
    config: ClientConfig,
) -> tuple[httpx.AsyncClient, tuple[type[BaseException], ...]]:
    """Return a pooled httpx.AsyncClient for `config` and its transport's errors.

    The aiohttp transport is imported only here, so sync-only processes (Celery workers)
    never load aiohttp. Its session binds to the event loop of its first request.
    """
    errors = SYNC_ERRORS
    transport = None
    if config.async_transport == "aiohttp":
        import aiohttp
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=POOL_LIMITS)
        # httpx-aiohttp lets aiohttp errors outside its map through unchanged.
        errors = (*errors, aiohttp.ClientError)
    client = httpx.AsyncClient(
        base_url=config.base_url,
        headers=config.headers(),
        timeout=config.request_timeout,
        limits=POOL_LIMITS,
        transport=transport,
    )
    return client, errors


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError):
        return True
    if not isinstance(exc, httpx.TimeoutException):
        return False
    # httpx-aiohttp maps every aiohttp ClientConnectionError (ServerDisconnectedError
    # included) to httpx.ConnectTimeout; only an aiohttp error that is a TimeoutError
    # really timed out.
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.startswith("aiohttp"):
        return isinstance(cause, TimeoutError)
    return True


def _from_aiohttp(exc: BaseException) -> BaseException | None:
    """Return the aiohttp exception behind `exc` (itself or its cause), if any."""
    for candidate in (exc, exc.__cause__):
        if candidate is not None and type(candidate).__module__.startswith("aiohttp"):
            return candidate
    return None


def _never_sent(exc: BaseException) -> bool:
    """Return whether `exc` certainly happened before the request was written."""
    original = _from_aiohttp(exc)
    if original is not None:
        # httpx-aiohttp maps ServerDisconnectedError (the request went out, the answer
        # never came) to httpx.ConnectTimeout, so the httpx class cannot tell; the
        # aiohttp one can. Imported here: only async processes load aiohttp.
        import aiohttp

        return isinstance(
            original, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
        )
    return isinstance(exc, _NOT_SENT)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def request_error(exc: BaseException, request_id: str | None) -> GLMError:
    """Return the GLMError for a failure before a whole response arrived.

    Resending is allowed except after a read timeout: then the platform had the request
    for the whole timeout and may still be working on it. `request_sent` is False only
    for failures before the request was written (see `_never_sent`).
    """
    sent = not _never_sent(exc)
    if _is_timeout(exc):
        read = isinstance(exc, httpx.ReadTimeout)
        return APITimeoutError(
            _describe(exc),
            request_id=request_id,
            retryable=not read,
            request_sent=sent,
        )
    permanent = isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL))
    return APIConnectionError(
        _describe(exc),
        request_id=request_id,
        retryable=not permanent,
        request_sent=sent,
    )


def body_error(exc: BaseException, idle_timeout: float) -> GLMError:
    """Return the GLMError for a failure while reading a streamed body (not resent)."""
    if _is_timeout(exc):
        return APITimeoutError(f"no data from the stream for {idle_timeout:g} s")
    return StreamInterruptedError(f"the stream broke off: {_describe(exc)}")
