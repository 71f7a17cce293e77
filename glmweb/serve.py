"""Run Daphne on uvloop: `python -m glmweb.serve [daphne's arguments]`.

Daphne drives Twisted's asyncio reactor on a loop it creates when `daphne.server` is
imported; installing uvloop's policy first makes that loop a uvloop one, which costs
less CPU per relayed token than the standard loop (docs/performance.md). On SIGTERM or
SIGINT, before Daphne exits, every installed app whose AppConfig has an async
`ashutdown()` gets to finish its work (the chat saves its running replies). Requests
are glmweb.daphne_requests' bounded ones (bodies over their limit get 413 before they
are read). Everything else is Daphne's own command line, unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from typing import Any, cast

logger = logging.getLogger(__name__)


def main() -> None:
    """Install uvloop's event loop policy, then hand over to Daphne's command line."""
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    # The reply engine's database calls run in threads; with Python's default 5 ms
    # switch interval a busy thread holds the event loop off the GIL for that long,
    # which showed as the p99 of streamed-token latency in a 200-reply burst
    # (docs/performance.md).
    sys.setswitchinterval(0.0005)
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
    sys.argv[0] = "daphne"
    CommandLineInterface.entrypoint()


def _shut_down_apps() -> object:
    from django.apps import apps
    from twisted.internet import defer

    hooks = [
        hook()
        for app in apps.get_app_configs()
        if callable(hook := getattr(app, "ashutdown", None))
    ]
    return defer.Deferred.fromFuture(asyncio.ensure_future(_gather(hooks)))


async def _gather(hooks: list[Coroutine[Any, Any, object]]) -> None:
    for result in await asyncio.gather(*hooks, return_exceptions=True):
        if isinstance(result, BaseException):
            logger.error("shutting down an app failed", exc_info=result)


if __name__ == "__main__":
    main()
