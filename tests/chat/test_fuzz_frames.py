"""Fuzzing the websocket (issue 13, item 7): every client frame type, mutated (fields
dropped, wrong kinds, huge values, deep nesting, unknown fields), and raw bytes,
non-JSON text and invalid UTF-8, all on one socket per test. Each bad frame is
answered with an error frame, the socket stays up (a sentinel frame sent after each
one is answered), and a refused frame saves nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from hypothesis import given
from hypothesis import strategies as st

from chat.models import Message
from tests.chat.fuzzing import fuzz_settings, mutated_objects, raw_bodies
from tests.chat.test_protocol_docs import parsed_types

pytestmark = pytest.mark.django_db(transaction=True)

# A valid frame of each client type (ids that exist in no conversation).
VALID: dict[str, dict[str, Any]] = {
    "message.send": {
        "type": "message.send",
        "client_id": "3f8f6c55-4a8e-4f7b-9b1e-0c9d2b7a1e11",
        "text": "hi",
        "options": {"temperature": 0.5},
        "attachments": [],
    },
    "reply.stop": {"type": "reply.stop", "message_id": 1},
    "reply.regenerate": {
        "type": "reply.regenerate",
        "client_id": "3f8f6c55-4a8e-4f7b-9b1e-0c9d2b7a1e12",
    },
    "message.edit": {
        "type": "message.edit",
        "message_id": 1,
        "client_id": "3f8f6c55-4a8e-4f7b-9b1e-0c9d2b7a1e13",
        "text": "edited",
    },
    "reply.continue": {
        "type": "reply.continue",
        "client_id": "3f8f6c55-4a8e-4f7b-9b1e-0c9d2b7a1e14",
        "message_id": 1,
    },
    "reply.select": {"type": "reply.select", "message_id": 1},
}
# What a frame can be answered with when it is accepted.
ACCEPTED = {"message.created", "reply.selected", "conversation.updated"}
# The error codes of docs/websocket.md's table.
ERROR_CODES = {
    "invalid_json",
    "unknown_type",
    "invalid",
    "empty_text",
    "text_too_long",
    "busy",
    "not_found",
    "attachment_not_found",
    "attachment_refused",
    "too_many_attachments",
    "rate_limited",
}


def test_every_client_frame_type_is_fuzzed():
    assert set(VALID) == parsed_types()


@pytest.fixture
async def fuzz_socket(glm_settings, ws_connect, user, make_conversation):
    """One socket on a conversation with a turn, kept across a test's examples."""
    glm_settings.GLMWEB_MESSAGES_PER_MINUTE = 1_000_000
    conversation = await sync_to_async(make_conversation)(user)
    ws = await ws_connect(user, conversation.pk)
    assert (await ws.receive_json_from())["type"] == "conversation.history"
    return ws, conversation


def _answers_nothing(raw: str | bytes) -> bool:
    """Whether a valid frame may go unanswered: reply.stop answers nothing."""
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return isinstance(frame, dict) and frame.get("type") == "reply.stop"


async def exchange(fuzz_socket: Any, raw: str | bytes) -> list[dict[str, Any]]:
    """Send `raw`, then a sentinel frame; return what came before the sentinel's
    answer, after checking the answers and that a refusal saved nothing."""
    ws, conversation = fuzz_socket
    messages = Message.objects.filter(conversation=conversation)
    before = await messages.acount()
    # As ASGI messages: send_to() cannot send an empty frame.
    key = "bytes" if isinstance(raw, bytes) else "text"
    await ws.send_input({"type": "websocket.receive", key: raw})
    sentinel = str(uuid.uuid4())
    await ws.send_json_to(
        {
            "type": "message.edit",
            "message_id": 2_000_000_001,
            "client_id": sentinel,
            "text": "sentinel",
        }
    )
    answered = []
    while True:
        frame = await ws.receive_json_from(10)
        if frame["type"] == "error" and frame.get("client_id") == sentinel:
            break
        answered.append(frame)
    errors = [f for f in answered if f["type"] == "error"]
    accepted = any(f["type"] in ACCEPTED for f in answered)
    for error in errors:
        assert error["code"] in ERROR_CODES and error["message"], error
    if not accepted:
        assert await messages.acount() == before
        assert errors or _answers_nothing(raw), raw[:200]
    return answered


@pytest.mark.parametrize("kind", sorted(VALID))
@fuzz_settings
@given(data=st.data())
async def test_mutated_frames_are_refused_and_the_socket_stays_up(
    kind, fuzz_socket, data
):
    text, _replaced = data.draw(mutated_objects(VALID[kind], list(VALID[kind])))
    await exchange(fuzz_socket, text)


@fuzz_settings
@given(raw=raw_bodies, as_text=st.booleans())
async def test_raw_bytes_and_non_json_are_refused_and_the_socket_stays_up(
    fuzz_socket, raw, as_text
):
    if as_text:
        text = raw.decode("utf-8", "replace")
        answered = await exchange(fuzz_socket, text)
    else:
        answered = await exchange(fuzz_socket, raw)
    assert [f["type"] for f in answered] == ["error"]


@pytest.mark.parametrize("kind", ["message.send", "message.edit"])
async def test_a_nul_in_a_text_is_refused_not_saved(kind, fuzz_socket):
    # Found by this suite on PostgreSQL, whose text cannot hold NUL: the send failed
    # in the database and the socket dropped.
    frame = json.dumps({**VALID[kind], "text": "a\u0000b"})
    answered = await exchange(fuzz_socket, frame)
    assert [(f["type"], f.get("code")) for f in answered] == [("error", "invalid")]
