"""Identifiers shaped like the platform's."""

from __future__ import annotations

import secrets
import time


def new_request_id() -> str:
    """Return a 30-character id like the platform's: yyyyMMddHHmmss + 16 hex digits."""
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(8)


def new_task_id() -> str:
    """Return an async task id: digits, as in the platform's documented examples."""
    return f"{time.time_ns() // 1_000_000}{secrets.randbelow(10**6):06d}"


def new_conversation_id() -> str:
    """Return an assistant conversation id (24 hex digits, like a Mongo ObjectId)."""
    return secrets.token_hex(12)
