"""Websocket routes of the chat app."""

from __future__ import annotations

from django.urls import re_path

from chat import consumers

websocket_urlpatterns = [
    # Any id reaches the consumer, which closes 4403 on whatever is not the user's
    # conversation (a malformed id included), so no path confirms anything.
    re_path(
        r"^ws/chat/(?P<conversation_id>[^/]{1,64})/$",
        consumers.ChatConsumer.as_asgi(),
    ),
]
