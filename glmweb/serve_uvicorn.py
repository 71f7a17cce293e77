"""Run the web process under uvicorn (GLMWEB_WEB_SERVER=uvicorn; glmweb.serve).

uvicorn on uvloop with httptools (HTTP) and websockets' sans-I/O protocol (what
uvicorn 0.54 picks when `websockets` is installed), set up to behave as the project's
Daphne does where the app or its operators depend on it:

- the command line is the subset of Daphne's the project uses: `-b/--bind`,
  `-p/--port`, `--shared-port HOST:PORT` (a SO_REUSEPORT socket, glmweb.serve),
  `-v/--verbosity` (0: no access log), `--proxy-headers` (X-Forwarded-For/-Proto,
  trusted from the addresses in uvicorn's FORWARDED_ALLOW_IPS, default 127.0.0.1),
  `--ping-interval`, `--ping-timeout`, `--websocket-max-message-size`,
  `--root-path` and the application; anything else is refused at start;
- websockets: pings after 20 s idle, closed after 30 s without a pong, messages of at
  most 1 MiB, no per-message compression (Daphne's defaults; compression would cost
  CPU on every frame the relay sends);
- request bodies over their limit get glmweb.bodylimits' 413
  (glmweb/body_limit_middleware.py);
- on SIGTERM or SIGINT the listening socket closes, then every app's `ashutdown()`
  runs while the sockets are still open (the chat saves its running replies and tells
  their sockets), then uvicorn closes the connections; the process exits 0, as
  Daphne's does;
- the event loop's lag is watched (glmweb/saturation.py); no ASGI lifespan (Channels'
  router has none); logging is Django's LOGGING (uvicorn's own config is not applied).
"""

from __future__ import annotations

import argparse
import asyncio
import socket

import uvicorn
from uvicorn.importer import import_from_string

from glmweb import serve

# Daphne's defaults (daphne.cli), kept so switching servers changes no behaviour.
PING_INTERVAL_SECONDS = 20
PING_TIMEOUT_SECONDS = 30
MAX_MESSAGE_BYTES = 1024 * 1024
# How long open connections get to close after the replies are saved.
GRACEFUL_SECONDS = 10


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Return the arguments of `python -m glmweb.serve` under uvicorn."""
    parser = argparse.ArgumentParser(
        prog="python -m glmweb.serve (GLMWEB_WEB_SERVER=uvicorn)"
    )
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    parser.add_argument("--shared-port", metavar="HOST:PORT")
    parser.add_argument("-v", "--verbosity", type=int, default=1)
    parser.add_argument("--proxy-headers", action="store_true")
    parser.add_argument("--ping-interval", type=int, default=PING_INTERVAL_SECONDS)
    parser.add_argument("--ping-timeout", type=int, default=PING_TIMEOUT_SECONDS)
    parser.add_argument(
        "--websocket-max-message-size", type=int, default=MAX_MESSAGE_BYTES
    )
    parser.add_argument("--root-path", default="")
    parser.add_argument("application", help="e.g. glmweb.asgi:application")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> uvicorn.Config:
    """Return uvicorn's configuration for these arguments, the application loaded
    (Django set up) and wrapped in the body limits."""
    from glmweb import body_limit_middleware

    app = import_from_string(args.application)
    return uvicorn.Config(
        body_limit_middleware.BodyLimitMiddleware(app),
        host=args.bind,
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_max_size=args.websocket_max_message_size,
        ws_ping_interval=args.ping_interval,
        ws_ping_timeout=args.ping_timeout,
        ws_per_message_deflate=False,
        lifespan="off",
        interface="asgi3",
        log_config=None,
        access_log=args.verbosity >= 1,
        proxy_headers=args.proxy_headers,
        server_header=False,
        root_path=args.root_path,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )


class Server(uvicorn.Server):
    """uvicorn's server with the project's start (lag monitor) and stop (the apps'
    shutdown hooks first)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        from glmweb import saturation

        self.lag_monitor = saturation.start_monitor(asyncio.get_running_loop())

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # New connections go elsewhere now (with --shared-port, to the processes
        # that stay), while the open sockets still hear how their replies ended.
        for listening in self.servers:
            listening.close()
        await serve.ashut_down_apps()
        await super().shutdown(sockets)
        # uvicorn re-raises the signal once it is done (the exit status would be
        # -SIGTERM); everything was saved, so exit 0 as Daphne does.
        self._captured_signals.clear()


def main(argv: list[str]) -> None:
    """Serve the application under uvicorn with Daphne-style arguments."""
    args = parse_args(argv)
    sockets: list[socket.socket] | None = None
    if args.shared_port:
        host, _, port = args.shared_port.rpartition(":")
        sockets = [serve.shared_socket(host, int(port))]
    Server(build_config(args)).run(sockets=sockets)
