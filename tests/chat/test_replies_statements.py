"""Database statements per reply do not grow with its length."""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import sync_to_async
from django.db.backends import utils as db_utils

from tests.chat.conftest import receive_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def statements(monkeypatch):
    """Record every SQL statement any thread runs (the ORM's threads included)."""
    seen: list[str] = []
    lock = threading.Lock()
    original = db_utils.CursorWrapper._execute_with_wrappers

    def counting(self, sql, params, many, executor):
        with lock:
            seen.append(sql)
        return original(self, sql, params, many, executor)

    monkeypatch.setattr(db_utils.CursorWrapper, "_execute_with_wrappers", counting)
    return seen


async def reply_statements(ws_connect, user, make_conversation, statements, tokens):
    conversation = await sync_to_async(make_conversation)(user)
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    statements.clear()
    await ws.send_json_to(send_frame(f"Count me [[sim:tokens={tokens},rate=5000]]"))
    end, seen = await receive_until(ws, "reply.end", 30)
    assert end["message"]["status"] == "complete"
    assert end["message"]["usage"]["completion_tokens"] == tokens
    frames = sum(1 for f in seen if f["type"] == "reply.delta")
    return list(statements), frames


async def test_statements_per_reply_are_the_same_for_30_and_3000_tokens(
    glm_settings, ws_connect, user, make_conversation, statements
):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    # Checkpoints many times during the long reply: they must not touch the database.
    glm_settings.GLMWEB_REPLY_CHECKPOINT_SECONDS = 0.05
    glm_settings.GLMWEB_REPLY_STALE_SECONDS = 3600  # no sweep in the middle
    short, short_frames = await reply_statements(
        ws_connect, user, make_conversation, statements, 30
    )
    long, long_frames = await reply_statements(
        ws_connect, user, make_conversation, statements, 3000
    )
    assert long_frames > short_frames
    assert len(short) == len(long), "\n".join(long)
    # The send's transaction (BEGIN, the locked read, the busy check, the UPDATE, two
    # INSERTs) and one final UPDATE: a first message's context needs no read.
    assert len(short) <= 7
