"""Run a web process: `python -m glmweb.serve [daphne's arguments]`.

GLMWEB_WEB_SERVER chooses the ASGI server: "daphne" (the default, below) or "uvicorn"
(glmweb/serve_uvicorn.py, which takes the same arguments the project uses and keeps
everything this docstring promises: the shutdown hooks, the body limits, the lag
monitor, `--shared-port`, the switch interval).

Daphne drives Twisted's asyncio reactor on a loop it creates when `daphne.server` is
imported; installing uvloop's policy first makes that loop a uvloop one, which costs
less CPU per relayed token than the standard loop (docs/performance.md). On SIGTERM or
SIGINT, before Daphne exits, every installed app whose AppConfig has an async
`ashutdown()` gets to finish its work (the chat saves its running replies). Requests
are glmweb.daphne_requests' bounded ones (bodies over their limit get 413 before they
are read). The event loop's lag is watched (glmweb/saturation.py; /healthz reports it).

`--shared-port HOST:PORT` (runapp's several web processes) listens on a socket of this
process's own with SO_REUSEPORT, handed to Daphne as `--fd`: every process started so
binds the same port and the kernel spreads new connections over them. Everything
else is Daphne's own command line, unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections.abc import Coroutine
from typing import Any, cast

logger = logging.getLogger(__name__)


def main() -> None:
    """Run the server GLMWEB_WEB_SERVER names with this process's arguments."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")
    from django.conf import settings

    # Read (and checked) before anything starts: a typo stops the process here.
    server = settings.GLMWEB_WEB_SERVER
    # The reply engine's database calls run in threads; with Python's default 5 ms
    # switch interval a busy thread holds the event loop off the GIL for that long,
    # which showed as the p99 of streamed-token latency in a 200-reply burst
    # (docs/performance.md).
    sys.setswitchinterval(0.0005)
    if server == "uvicorn":
        from glmweb import serve_uvicorn

        serve_uvicorn.main(sys.argv[1:])
    else:
        run_daphne()


def run_daphne() -> None:
    """Install uvloop's event loop policy, then hand over to Daphne's command line."""
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    from daphne.cli import CommandLineInterface
    from twisted.internet import reactor

    from glmweb import daphne_requests

    # Request bodies: never parsed on the event loop, never kept past their limit
    # (a 100 MB form froze every stream for 8 s; glmweb/daphne_requests.py).
    daphne_requests.install()

    # On SIGTERM/SIGINT Twisted runs "before shutdown" triggers while the loop still
    # runs: the replies streaming here are saved with every token they have, instead
    # of being found later with only their last checkpoint.
    # Twisted types `reactor` as a module, not the IReactorCore it provides.
    cast(Any, reactor).addSystemEventTrigger("before", "shutdown", _shut_down_apps)
    cast(Any, reactor).callWhenRunning(_start_lag_monitor)
    sys.argv = ["daphne", *_share_port(sys.argv[1:])]
    CommandLineInterface.entrypoint()


def _share_port(args: list[str]) -> list[str]:
    """Replace `--shared-port HOST:PORT` in Daphne's arguments by `--fd N`, N being
    a listening socket bound with SO_REUSEPORT."""
    if "--shared-port" not in args:
        return args
    at = args.index("--shared-port")
    host, _, port = args[at + 1].rpartition(":")
    return [*args[:at], "--fd", str(listen_shared(host, int(port))), *args[at + 2 :]]


def listen_shared(host: str, port: int) -> int:
    """Return the file descriptor of a listening IPv4 socket on host:port that other
    processes may bind too (SO_REUSEPORT); the caller owns the descriptor."""
    # Twisted adopts a duplicate and closes this descriptor itself.
    return shared_socket(host, port).detach()


def shared_socket(host: str, port: int) -> socket.socket:
    """Return a listening, non-blocking IPv4 socket on host:port that other processes
    may bind too (SO_REUSEPORT)."""
    # Daphne's `--fd` endpoint adopts IPv4 sockets only (Twisted's fd parser).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    # Twisted's own default backlog for TCP ports.
    sock.listen(50)
    sock.setblocking(False)
    return sock


def _start_lag_monitor() -> None:
    from glmweb import saturation

    # Daphne has made the reactor's loop the current one before the reactor runs.
    saturation.start_monitor(asyncio.get_event_loop())


def _shut_down_apps() -> object:
    from twisted.internet import defer

    return defer.Deferred.fromFuture(asyncio.ensure_future(ashut_down_apps()))


async def ashut_down_apps() -> None:
    """Await every installed app's `ashutdown()` (the chat saves its running replies
    and tells their sockets); log the ones that fail."""
    from django.apps import apps

    hooks: list[Coroutine[Any, Any, object]] = [
        hook()
        for app in apps.get_app_configs()
        if callable(hook := getattr(app, "ashutdown", None))
    ]
    for result in await asyncio.gather(*hooks, return_exceptions=True):
        if isinstance(result, BaseException):
            logger.error("shutting down an app failed", exc_info=result)


if __name__ == "__main__":
    main()
