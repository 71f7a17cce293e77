"""The last requests the simulator received, for tests to assert on exact payloads."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

MAX_ENTRIES = 500


class RequestLog:
    def __init__(self, size: int = MAX_ENTRIES) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)

    def record(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> None:
        # The Authorization header is kept on purpose: tests tell a JWT from a raw key,
        # and the simulator only ever sees fake keys.
        self._entries.append(
            {
                "method": method,
                "path": path,
                "headers": headers,
                "json": body,
                "received_at": time.time(),
            }
        )

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()
