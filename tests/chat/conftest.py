"""Fixtures of the chat tests: users, their conversations and turns.

Helpers append their own fixtures below; keep existing ones as they are.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model

from chat.models import Conversation, Message

# --- Conversations, messages, the API client (chat services and HTTP side)


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    """Return a factory of users (password "pw-12345-long")."""
    counter = iter(range(1, 10_000))

    def make(username: str | None = None) -> object:
        name = username or f"user{next(counter)}"
        return get_user_model().objects.create_user(name, password="pw-12345-long")

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("mallory")


@pytest.fixture
def make_conversation(db) -> Callable[..., Conversation]:
    """Return a factory: make_conversation(owner, **fields) -> Conversation."""

    def make(owner: object, **fields: object) -> Conversation:
        fields.setdefault("model", "glm-4-flash")
        return Conversation.objects.create(owner=owner, **fields)

    return make


@pytest.fixture
def add_turns(db) -> Callable[..., list[Message]]:
    """Return add_turns(conversation, [(user_text, reply_text), ...]) -> messages.

    Each pair becomes a user message and a complete assistant reply (reply None: the
    user message alone). Returns the messages made, oldest first.
    """

    def add(
        conversation: Conversation, pairs: list[tuple[str, str | None]]
    ) -> list[Message]:
        made = []
        for question, answer in pairs:
            made.append(
                Message.objects.create(
                    conversation=conversation, role=Message.Role.USER, content=question
                )
            )
            if answer is not None:
                made.append(
                    Message.objects.create(
                        conversation=conversation,
                        role=Message.Role.ASSISTANT,
                        content=answer,
                        status=Message.Status.COMPLETE,
                        model=conversation.model,
                    )
                )
        return made

    return add


@pytest.fixture
def alice_client(client, user):
    """A Django test client logged in as `user` (alice)."""
    client.force_login(user)
    return client


@pytest.fixture
def chat_requests(glm_settings, simulator) -> Callable[[], list[dict]]:
    """Empty the simulator's request log; return a function listing the chat calls
    recorded since (their JSON bodies, oldest first)."""
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(f"{simulator.root}/_sim/requests", method="DELETE"),
        timeout=5,
    ).close()

    def chat_calls() -> list[dict]:
        return [
            entry["json"]
            for entry in simulator.requests()
            if entry["path"].endswith("chat/completions")
        ]

    return chat_calls


# --- The websocket and the reply engine (chat.consumers, chat.replies)


@pytest.fixture
async def reply_engine():
    """Yield this loop's reply hub; at teardown wait for (or stop) its replies, so
    no reply task outlives the test's database."""
    import asyncio

    from chat.replies import hub as hub_module

    hub = await hub_module.get_hub()
    yield hub
    for live in list(hub.replies.values()):
        if live.task is not None and not live.task.done():
            try:
                await asyncio.wait_for(asyncio.shield(live.task), 10)
            except TimeoutError:
                hub.request_stop(live)
                await asyncio.wait_for(asyncio.shield(live.task), 10)
    # Background follow-ups (titles, snapshot re-checks) finish quickly.
    await asyncio.sleep(0)


@pytest.fixture
async def ws_connect(reply_engine):
    """Return an async factory: await ws_connect(user, conversation_id, language="en")
    -> a connected WebsocketCommunicator (disconnected at teardown)."""
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from chat import routing

    opened = []

    async def connect(user, conversation_id, language="en", expect_history=True):
        communicator = WebsocketCommunicator(
            URLRouter(routing.websocket_urlpatterns),
            f"/ws/chat/{conversation_id}/",
            headers=[(b"accept-language", language.encode())],
        )
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        assert connected
        opened.append(communicator)
        return communicator

    yield connect

    for communicator in opened:
        try:
            await communicator.disconnect()
        except Exception:
            pass


async def receive_until(communicator, frame_type, wait=10.0):
    """Return (the first frame of frame_type, every frame received up to it)."""
    seen = []
    while True:
        frame = await communicator.receive_json_from(wait)
        seen.append(frame)
        if frame["type"] == frame_type:
            return frame, seen
