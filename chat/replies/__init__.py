"""The server-owned reply engine of the chat.

A reply runs as an asyncio task in the process that accepted the turn (runner), its
text is held in memory (live) and sent as coalesced frames straight to this process's
sockets (hub), crosses to other processes through Redis pub/sub only when needed
(relay), is checkpointed outside the database (checkpoints), and is recovered if its
process dies (recovery). Every frame a socket receives is built in protocol;
docs/websocket.md is the protocol.

Its public face, re-exported here, is all the consumer, the server process and the
tests use: astart and ashutdown (engine), what a socket asks (commands: aopen,
aclose, asend, aregenerate, aedit, acontinue, aselect, astop, areplay,
afollow_foreign) and what the app asks about a user's sockets (sessions:
arecheck_user_sockets).

Imports point one way: commands -> runner, recovery -> hub -> live, relay,
checkpoints, protocol; engine builds the hub and hands it recovery's sweep.
"""

from __future__ import annotations

from chat.replies.commands import (
    aclose,
    acontinue,
    aedit,
    afollow_foreign,
    aopen,
    aregenerate,
    areplay,
    aselect,
    asend,
    astop,
)
from chat.replies.engine import ashutdown, astart
from chat.replies.sessions import arecheck_user_sockets, hub_loop, publish_user_recheck

__all__ = [
    "aclose",
    "acontinue",
    "aedit",
    "afollow_foreign",
    "aopen",
    "aregenerate",
    "arecheck_user_sockets",
    "areplay",
    "aselect",
    "ashutdown",
    "asend",
    "astart",
    "astop",
    "hub_loop",
    "publish_user_recheck",
]
