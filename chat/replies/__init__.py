"""The server-owned reply engine of the chat.

A reply runs as an asyncio task in the process that accepted the turn (runner), its
text is held in memory (live) and sent as coalesced frames straight to this process's
sockets (hub), crosses to other processes through Redis pub/sub only when needed
(relay), is checkpointed outside the database (checkpoints), and is recovered if its
process dies (recovery). Consumers call the functions of `commands`, re-exported here.
docs/websocket.md is the protocol.
"""

from __future__ import annotations

from chat.replies.commands import (
    aclose,
    aedit,
    afollow_foreign,
    aopen,
    aregenerate,
    areplay,
    asend,
    astop,
)

__all__ = [
    "aclose",
    "aedit",
    "afollow_foreign",
    "aopen",
    "aregenerate",
    "areplay",
    "asend",
    "astop",
]
