"""A chat socket's session, checked again after the handshake.

Channels reads the user from the session cookie once, at the handshake; without more,
a socket outlived a log-out, a password change in another browser and a deactivation
(it still took message.send and still got the conversation's frames). So:

- a socket checks that its session still signs its user in
  (`asession_user_id`: one session read and one user read in the pool) once it is
  registered with the reply engine, then every GLMWEB_SOCKET_SESSION_CHECK_SECONDS (a
  session that expired with no one logging out);
- log-out, a changed password, deactivation and deletion of the user, and deletion
  of a session row (the signals below) make every socket of that user, in this
  process and (with REDIS_URL) the others, check now: a socket whose session no
  longer signs the user in closes with code 4401. The session that logged out or was
  deleted closes without a check (the log-out signal fires before Django flushes it);
- a frame is acted on only while the last check holds. With a session store whose
  deletions send signals (the database and cached_db engines) that costs no read per
  frame (a burst of sends paid two statements each, and every first token waited on
  them); with any other store every frame checks again. What the signals cannot see is
  a session row deleted with raw SQL: a socket notices it within the check interval.

The check reads; unlike django.contrib.auth.get_user it never flushes or cycles a
session, so a socket cannot log anyone out.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
    user_logged_out,
)
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.crypto import constant_time_compare

from chat import dbpool

logger = logging.getLogger(__name__)

# The close code of a socket whose session ended (docs/websocket.md).
SESSION_ENDED = 4401


def session_digest(session_key: str | None) -> str:
    """Return the name a session goes by between processes (its key never leaves
    the session store)."""
    if not session_key:
        return ""
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def session_user_id(session_key: str | None) -> int | None:
    """Return the id of the user the session signs in, or None: no such session
    (logged out, expired), an unknown backend, an inactive or deleted user, or a
    password (session auth hash) changed since."""
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    data = store.load()
    backend_path = data.get(BACKEND_SESSION_KEY)
    if SESSION_KEY not in data or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user_id = get_user_model()._meta.pk.to_python(data[SESSION_KEY])
    user = load_backend(backend_path).get_user(user_id)
    if user is None:
        return None
    session_hash = data.get(HASH_SESSION_KEY) or ""
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not session_hash or not any(
        constant_time_compare(session_hash, known) for known in hashes
    ):
        return None
    return int(user.pk)


asession_user_id = dbpool.in_pool(session_user_id)


def _session_model() -> Any:
    """Return the session store's model, or None for a store without rows."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    get_model_class = getattr(store, "get_model_class", None)
    return get_model_class() if get_model_class is not None else None


def deletions_are_signalled() -> bool:
    """Return whether a session ended by deletion reaches its sockets at once (the
    store keeps rows, and _on_session_deleted hears of each)."""
    return _session_model() is not None


# --- signals: what ends a session elsewhere


def recheck_user_sockets(user_id: int, ended_session: str | None = None) -> None:
    """Have every socket of the user check its session (from any thread, sync)."""
    from chat import replies

    digest = session_digest(ended_session)
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    hub_loop = replies.hub_loop()
    if hub_loop is not None and hub_loop is running:
        running.create_task(replies.arecheck_user_sockets(user_id, digest))
    elif hub_loop is not None and not hub_loop.is_closed():
        asyncio.run_coroutine_threadsafe(
            replies.arecheck_user_sockets(user_id, digest), hub_loop
        )
    else:  # no socket in this process: only the others may have some
        replies.publish_user_recheck(user_id, digest)


def _on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None or user.pk is None:
        return
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    recheck_user_sockets(user.pk, key)


def _on_user_saved(
    sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any
) -> None:
    # Logging in saves last_login only: no session of this user can have ended.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    user_id = instance.pk
    # After the commit, so the sockets' checks read the new password hash.
    transaction.on_commit(lambda: recheck_user_sockets(user_id))


def _on_user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    user_id = instance.pk
    transaction.on_commit(lambda: recheck_user_sockets(user_id))


def _on_session_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    # A flush, a cycled key, clearsessions or an admin's delete: the row's sockets
    # close. (Its receiver also makes a queryset delete send the signal per row.)
    try:
        user_id = int(instance.get_decoded().get(SESSION_KEY))
    except (TypeError, ValueError):  # an anonymous session: no socket has it
        return
    key = instance.session_key
    transaction.on_commit(lambda: recheck_user_sockets(user_id, key))


def connect_signals() -> None:
    """Connect the receivers (chat.apps.ChatConfig.ready)."""
    user_model = get_user_model()
    user_logged_out.connect(_on_logged_out, dispatch_uid="chat.socket_sessions.out")
    post_save.connect(
        _on_user_saved, sender=user_model, dispatch_uid="chat.socket_sessions.saved"
    )
    post_delete.connect(
        _on_user_deleted,
        sender=user_model,
        dispatch_uid="chat.socket_sessions.deleted",
    )
    session_model = _session_model()
    if session_model is not None:
        post_delete.connect(
            _on_session_deleted,
            sender=session_model,
            dispatch_uid="chat.socket_sessions.session_deleted",
        )
