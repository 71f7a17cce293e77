"""The chat websocket: one socket per open conversation. Protocol: docs/websocket.md."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError

from chat import frames, message_limits, replies, socket_sessions, turns, versions
from chat.replies import protocol
from glmweb import languages, server_send

logger = logging.getLogger(__name__)

FORBIDDEN = 4403


def scope_language(scope: dict[str, Any]) -> str:
    """Return the socket user's language: the django_language cookie, else
    Accept-Language, else settings.LANGUAGE_CODE (as a code of settings.LANGUAGES)."""
    cookie = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    accept = ",".join(
        value.decode("latin-1")
        for name, value in scope.get("headers") or ()
        if name == b"accept-language"
    )
    return languages.choose_language(cookie, accept)


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
    user_id: int = 0
    # The session the handshake signed in with (chat.socket_sessions): checked once
    # the socket is registered, every GLMWEB_SOCKET_SESSION_CHECK_SECONDS, and when a
    # signal says it may have ended; a frame is acted on only while the last check
    # holds (see _session_holds).
    session_key: str | None = None
    session_digest: str = ""
    _session_watch: asyncio.Task[None] | None = None
    # Loop time of the last check that found the session good; None: check before
    # acting on the next frame. Each check counts itself, and only the latest may
    # set this (a check begun before a log-out must not vouch for the session).
    _session_good_at: float | None = None
    _session_checks = 0

    async def connect(self) -> None:
        # Frames go to the server's own send where the stack keeps it (every
        # Channels middleware's send wrapper is for the handshake only); a consumer
        # mounted without it (tests' URLRouter) sends through Channels.
        self._send_frame = self.scope.get(server_send.SCOPE_KEY) or self.base_send
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
        # Known before the hub does: a log-out during aopen must find this socket.
        self.user_id = user.pk
        self.session_key = getattr(self.scope.get("session"), "session_key", None)
        self.session_digest = socket_sessions.session_digest(self.session_key)
        opened = await replies.aopen(conversation_id, user.pk, self)
        if opened is None:  # missing, deleted, someone else's, or not a UUID
            await self.close(code=FORBIDDEN)
            return
        self._attached = True
        self.conversation_id = conversation_id
        if self.session_key:
            # Checked once now that the hub knows this socket (a log-out between
            # the handshake and now reached no one); from here on a frame costs no
            # read while the check holds (_session_holds).
            if not await self.recheck_session():
                return
            self._session_watch = asyncio.create_task(self._watch_session())
        history, foreign = opened
        await self._send_now(history)
        backlog, self._backlog = self._backlog or [], None
        for text in backlog:
            await self._send_now(text)
        if foreign:
            await replies.afollow_foreign(conversation_id, foreign, self)

    async def disconnect(self, code: int) -> None:
        if self._session_watch is not None:
            self._session_watch.cancel()
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
            await self._send_frame({"type": "websocket.send", "text": text})
        except Exception:  # a socket closing under us must not break the sender
            logger.debug("sending to a closing socket failed", exc_info=True)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if not self._attached or not await self._session_holds():
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

    async def _session_holds(self) -> bool:
        # A frame costs no database read while the last check is fresh: every way a
        # session ends that the store can see (log-out, password change,
        # deactivation, deletion of the session row) makes this socket check again
        # at once (chat.socket_sessions), and a session that merely expired is
        # caught by the periodic check. Under a burst of sends the per-frame read
        # (two statements in the pool) delayed every first token.
        good_at = self._session_good_at
        if (
            good_at is not None
            and socket_sessions.deletions_are_signalled()
            and asyncio.get_running_loop().time() - good_at
            < settings.GLMWEB_SOCKET_SESSION_CHECK_SECONDS
        ):
            return True
        return await self.recheck_session()

    async def recheck_session(self) -> bool:
        """Return whether the socket's session still signs its user in; if not, end
        the socket (code 4401). A socket opened without a session (tests that set
        scope["user"]) has nothing to check."""
        if not self.session_key:
            return True
        # Doubted from now on: frames wait for this check (or a later one).
        self._session_good_at = None
        self._session_checks += 1
        check = self._session_checks
        started = asyncio.get_running_loop().time()
        if await socket_sessions.asession_user_id(self.session_key) == self.user_id:
            if check == self._session_checks:
                self._session_good_at = started
            return True
        await self.end_session()
        return False

    async def end_session(self) -> None:
        """Stop this socket's frames at once and close it with code 4401."""
        if self._attached:
            self._attached = False
            await replies.aclose(self.conversation_id, self)
            await self.close(code=socket_sessions.SESSION_ENDED)

    async def _watch_session(self) -> None:
        # Catches a session that expired with nobody logging out; log-outs, password
        # changes, deactivations and deleted sessions ask every socket at once
        # (chat.socket_sessions).
        while self._attached:
            await asyncio.sleep(settings.GLMWEB_SOCKET_SESSION_CHECK_SECONDS)
            try:
                await self.recheck_session()
            except Exception:
                logger.exception("checking a socket's session failed")

    async def _handle(self, request: frames.Request) -> None:
        if isinstance(request, frames.ReplyRequest) and not message_limits.allow(
            self.user_id
        ):
            raise frames.FrameRefused("rate_limited", client_id=str(request.client_id))
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
