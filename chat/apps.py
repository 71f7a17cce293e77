from __future__ import annotations

from django.apps import AppConfig


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"

    async def ashutdown(self) -> None:
        """Save this process's running replies before it exits; glmweb.serve calls
        this on SIGTERM/SIGINT (see chat.replies.ashutdown)."""
        from chat import replies  # the engine's modules import models: not at load

        await replies.ashutdown()
