"""Websocket routes of the chat app (the consumers arrive with the chat issue)."""

from __future__ import annotations

websocket_urlpatterns: list = []
