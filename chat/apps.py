from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from chat import socket_sessions

        # Log-out, password change, deactivation: the user's open sockets check
        # their sessions at once.
        socket_sessions.connect_signals()

    async def ashutdown(self) -> None:
        """Save this process's running replies before it exits; glmweb.serve calls
        this on SIGTERM/SIGINT (see chat.replies.ashutdown)."""
        from chat import replies  # the engine's modules import models: not at load

        await replies.ashutdown()
