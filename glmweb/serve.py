"""Run Daphne on uvloop: `python -m glmweb.serve [daphne's arguments]`.

Daphne drives Twisted's asyncio reactor on a loop it creates when `daphne.server` is
imported; installing uvloop's policy first makes that loop a uvloop one, which costs
less CPU per relayed token than the standard loop (docs/performance.md). On SIGTERM or
SIGINT the chat's running replies are saved before Daphne exits. Everything else is
Daphne's own command line, unchanged.
"""

from __future__ import annotations

import asyncio
import sys


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

    # On SIGTERM/SIGINT Twisted runs "before shutdown" triggers while the loop still
    # runs: the replies streaming here are saved with every token they have, instead
    # of being found later with only their last checkpoint.
    reactor.addSystemEventTrigger("before", "shutdown", _save_running_replies)
    sys.argv[0] = "daphne"
    CommandLineInterface.entrypoint()


def _save_running_replies() -> object:
    from twisted.internet import defer

    from chat.replies import hub

    return defer.Deferred.fromFuture(asyncio.ensure_future(hub.ashutdown_hub()))


if __name__ == "__main__":
    main()
