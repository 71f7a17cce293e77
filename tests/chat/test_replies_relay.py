"""The relay between processes names its message kinds; a message of a kind this
process does not know is logged and skipped, never handed on or dropped silently."""

from __future__ import annotations

import logging

from chat.replies.relay import PREFIX, Kind, Relay


def make_relay(received):
    async def on_message(conversation_id, kind, payload):
        received.append((conversation_id, kind, payload))

    # Never started: dispatch() needs no connection.
    return Relay("redis://127.0.0.1:6379/0", "me", on_message)


async def test_known_kinds_reach_the_handler_by_name():
    received = []
    relay = make_relay(received)
    channel = (PREFIX + "conv-1").encode()
    for kind in Kind:
        await relay.dispatch(channel, b"other|" + kind.value + b"|payload")
    assert received == [("conv-1", kind, b"payload") for kind in Kind]


async def test_own_messages_are_skipped():
    received = []
    relay = make_relay(received)
    await relay.dispatch((PREFIX + "conv-1").encode(), b"me|F|{}")
    assert received == []


async def test_an_unknown_kind_is_logged_not_handled(caplog):
    received = []
    relay = make_relay(received)
    with caplog.at_level(logging.WARNING, logger="chat.replies.relay"):
        await relay.dispatch((PREFIX + "conv-1").encode(), b"other|X|{}")
    assert received == []
    assert "unknown kind b'X' from other" in caplog.text
