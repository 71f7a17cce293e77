"""LiveReply: the in-memory state of one reply this process is generating.

The runner appends each delta's text here (a list append: no I/O, no JSON per token);
the hub's tick turns what is pending into one `reply.delta` frame every ~35 ms.
`content` holds only text already sent in frames, so a snapshot taken at `seq`
is exactly what a client holding every frame up to `seq` has.
"""

from __future__ import annotations

import asyncio
from typing import Any

from chat.replies import protocol


class LiveReply:
    """One streaming reply owned by this process."""

    __slots__ = (
        "conversation_id",
        "message_id",
        "seq",
        "content",
        "reasoning",
        "pending_content",
        "pending_reasoning",
        "web_search",
        "tool_calls",
        "dirty",
        "remote",
        "stop_requested",
        "shutting_down",
        "finishing",
        "task",
    )

    def __init__(self, conversation_id: str, message_id: int) -> None:
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.seq = 0
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.pending_content: list[str] = []
        self.pending_reasoning: list[str] = []
        self.web_search: list[dict[str, Any]] = []
        # An agent's tool calls so far (chat.assistants.tool_call_dict).
        self.tool_calls: list[dict[str, Any]] = []
        # Queued for the hub's next tick.
        self.dirty = False
        # Another process has a socket on this conversation: publish frames to Redis.
        self.remote = False
        self.stop_requested = False
        # Stopped because the process is exiting, not by the user: saved as
        # interrupted (server_restarted) with all its text.
        self.shutting_down = False
        self.finishing = False
        self.task: asyncio.Task[None] | None = None

    def take_frame(self) -> bytes | None:
        """Return the next reply.delta frame, encoded (pending text moves to sent),
        or None when there is no new text."""
        if not self.pending_content and not self.pending_reasoning:
            return None
        content = "".join(self.pending_content)
        reasoning = "".join(self.pending_reasoning)
        self.pending_content.clear()
        self.pending_reasoning.clear()
        if content:
            self.content.append(content)
        if reasoning:
            self.reasoning.append(reasoning)
        self.seq += 1
        return protocol.reply_delta(self.message_id, self.seq, content, reasoning)

    def snapshot(self) -> dict[str, Any]:
        """Return the Snapshot of docs/websocket.md: everything sent up to `seq`."""
        # Joined pieces are kept joined, so repeated snapshots stay cheap.
        content = "".join(self.content)
        self.content[:] = [content] if content else []
        reasoning = "".join(self.reasoning)
        self.reasoning[:] = [reasoning] if reasoning else []
        return {
            "message_id": self.message_id,
            "seq": self.seq,
            "content": content,
            "reasoning": reasoning,
            "web_search": self.web_search,
            "tool_calls": self.tool_calls,
        }

    def full_text(self) -> tuple[str, str]:
        """Return (content, reasoning) including text not yet sent in a frame."""
        return (
            "".join(self.content) + "".join(self.pending_content),
            "".join(self.reasoning) + "".join(self.pending_reasoning),
        )
