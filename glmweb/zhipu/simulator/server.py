"""Run the simulator under uvicorn (uvloop + httptools, no access log) until stopped."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import uvicorn

from .app import SimulatorApp
from .config import SimulatorConfig
from .http import DroppedConnection


class _HideDeliberateDrops(logging.Filter):
    """uvicorn logs each exception that ends a response; drop_after's is on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:  # False when the port could not be bound
            self._on_ready()


def serve(
    config: SimulatorConfig, host: str, port: int, on_ready: Callable[[str], None]
) -> None:
    """Serve until SIGINT/SIGTERM; call on_ready(base_url) once the socket listens."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    logging.getLogger("uvicorn.error").addFilter(_HideDeliberateDrops())
    server = _Server(
        uvicorn.Config(
            SimulatorApp(config),
            host=host,
            port=port,
            loop="uvloop",
            http="httptools",
            ws="none",
            lifespan="off",
            access_log=False,
            log_level="warning",
        ),
        on_ready=lambda: on_ready(f"http://{shown}:{port}/api/paas/v4/"),
    )
    server.run()
