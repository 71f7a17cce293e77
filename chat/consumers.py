"""The chat websocket: one socket per open conversation. Protocol: docs/websocket.md."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

from chat import frames, replies, turns, versions
from chat.replies import protocol

logger = logging.getLogger(__name__)

FORBIDDEN = 4403


def scope_language(scope: dict[str, Any]) -> str:
    """Return the socket user's language: the django_language cookie, else
    Accept-Language, else settings.LANGUAGE_CODE (as a code of settings.LANGUAGES)."""
    candidates: list[str] = []
    cookie = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME)
    if cookie:
        candidates.append(cookie)
    for name, value in scope.get("headers") or ():
        if name == b"accept-language":
            header = value.decode("latin-1")
            candidates.extend(code for code, _q in parse_accept_lang_header(header))
    for code in candidates:
        if code == "*":
            continue
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class ChatConsumer(AsyncWebsocketConsumer):
    """One conversation's socket.

    Receives message.send, reply.stop, reply.regenerate and message.edit; sends
    conversation.history once, then message.created, reply.delta, reply.snapshot,
    reply.search, reply.end, conversation.updated, summary.created and error frames.
    Replies belong to the server (chat.replies), not to this socket.
    """

    # No channel layer (settings configure none): frames reach sockets straight from
    # the reply engine and cross processes through its own Redis relay
    # (docs/websocket.md), so Channels gives this consumer no per-socket channel.

    conversation_id: str = ""
    language: str = ""

    async def connect(self) -> None:
        self.language = scope_language(self.scope)
        self._backlog: list[str] | None = []
        self._attached = False
        user = self.scope.get("user")
        try:
            conversation_id = str(
                uuid.UUID(self.scope["url_route"]["kwargs"]["conversation_id"])
            )
        except ValueError:
            conversation_id = ""
        # Accept first, then close: a refused handshake reaches the browser as 1006
        # with no code, and the page must be able to tell "not yours" (4403).
        await self.accept()
        if not conversation_id or user is None or not user.is_authenticated:
            await self.close(code=FORBIDDEN)
            return
        opened = await replies.aopen(conversation_id, user.pk, self)
        if opened is None:  # missing, deleted, someone else's, or not a UUID
            await self.close(code=FORBIDDEN)
            return
        self._attached = True
        self.conversation_id = conversation_id
        self.user_id = user.pk
        history, foreign = opened
        await self._send_now(history)
        backlog, self._backlog = self._backlog or [], None
        for text in backlog:
            await self._send_now(text)
        if foreign:
            await replies.afollow_foreign(conversation_id, foreign, self)

    async def disconnect(self, code: int) -> None:
        if self._attached:
            self._attached = False
            await replies.aclose(self.conversation_id, self)

    async def push(self, text: str) -> None:
        """Send a frame the reply engine encoded (held until the history is out)."""
        if self._backlog is not None:
            self._backlog.append(text)
            return
        await self._send_now(text)

    async def _send_now(self, text: str) -> None:
        try:
            await self.base_send({"type": "websocket.send", "text": text})
        except Exception:  # a socket closing under us must not break the sender
            logger.debug("sending to a closing socket failed", exc_info=True)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if not self._attached:
            return
        client_id: str | None = None
        try:
            request = frames.parse(text_data if text_data is not None else bytes_data)
            client_id = str(getattr(request, "client_id", "") or "") or None
            await self._handle(request)
        except frames.FrameRefused as refused:
            await self._refuse(
                refused.code, refused.field, refused.client_id, refused.reason
            )
        except turns.TurnRefused as refused:
            await self._refuse(refused.code, refused.field, client_id, refused.reason)
        except versions.SelectRefused as refused:
            await self._refuse(refused.code, "", None)

    async def _handle(self, request: frames.Request) -> None:
        if isinstance(request, frames.SendRequest):
            turn = await replies.asend(
                self.conversation_id,
                self.user_id,
                request.client_id,
                request.text,
                request.options,
                request.attachments,
            )
        elif isinstance(request, frames.RegenerateRequest):
            turn = await replies.aregenerate(
                self.conversation_id, self.user_id, request.client_id
            )
        elif isinstance(request, frames.EditRequest):
            turn = await replies.aedit(
                self.conversation_id,
                self.user_id,
                request.message_id,
                request.client_id,
                request.text,
            )
        elif isinstance(request, frames.ContinueRequest):
            turn = await replies.acontinue(
                self.conversation_id,
                self.user_id,
                request.client_id,
                request.message_id,
            )
        elif isinstance(request, frames.SelectRequest):
            await replies.aselect(
                self.conversation_id, self.user_id, request.message_id
            )
            return
        else:
            await replies.astop(self.conversation_id, request.message_id)
            return
        if not turn.created:
            await replies.areplay(turn, self)

    async def _refuse(
        self,
        code: str,
        field: str,
        client_id: str | None,
        reason: ValidationError | None = None,
    ) -> None:
        message = frames.refusal_text(code, self.language, field, reason)
        await self._send_now(protocol.error(code, message, client_id))
