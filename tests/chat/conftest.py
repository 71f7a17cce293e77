"""Fixtures of the chat tests: users, their conversations and turns.

Helpers append their own fixtures below; keep existing ones as they are.
"""

from __future__ import annotations

import uuid
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
async def reply_engine(transactional_db):
    """Start this loop's reply engine; at teardown shut it down as a server process
    does (replies still running are saved), so no reply task outlives the test's
    database."""
    from chat import replies

    await replies.astart()
    yield
    await replies.ashutdown(grace=10)
    # The ORM's worker thread would keep its connection, and PostgreSQL then refuses
    # to drop the test database at the end of the session.
    from asgiref.sync import sync_to_async
    from django.db import connections

    await sync_to_async(connections.close_all)()


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


def send_frame(text, client_id=None, **extra):
    """Return a `message.send` frame (a new client id unless one is given)."""
    return {
        "type": "message.send",
        "client_id": str(client_id or uuid.uuid4()),
        "text": text,
        **extra,
    }


async def receive_until(communicator, frame_type, wait=10.0):
    """Return (the first frame of frame_type, every frame received up to it)."""
    seen = []
    while True:
        frame = await communicator.receive_json_from(wait)
        seen.append(frame)
        if frame["type"] == frame_type:
            return frame, seen


@pytest.fixture
def daphne_processes(simulator, settings):
    """Return start(**env) -> a running Daphne (`.port`, `.process`) on the test
    database, talking to the simulator; every one is killed at teardown."""
    import os
    import subprocess
    import sys
    from types import SimpleNamespace

    from django.db import connection

    from tests.conftest import BASE_DIR, free_port, wait_for_port

    started = []

    def start(**extra_env: str) -> SimpleNamespace:
        port = free_port()
        log = open(BASE_DIR / "var" / f"daphne-{port}.log", "wb")  # noqa: SIM115
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.chat.daphne_settings",
            "GLMWEB_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
            "GLMWEB_VAR_DIR": str(settings.VAR_DIR),
            "ZHIPUAI_BASE_URL": simulator.base_url,
            "ZHIPUAI_API_KEY": "test-id.test-secret",
            "ZHIPUAI_MAX_RETRIES": "0",
            "GLMWEB_AUTO_TITLE": "off",
            **extra_env,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "glmweb.serve", "-b", "127.0.0.1", "-p", str(port),
             "glmweb.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append((process, log))
        wait_for_port(port, process)
        return SimpleNamespace(port=port, process=process, log_path=log.name)

    yield start

    for process, log in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


@pytest.fixture
def session_cookie(user):
    """Return a signed-in session id for `user` (the `sessionid` cookie's value)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


@pytest.fixture
def shared_orm_thread_busy():
    """Return an async context manager that keeps Django's one shared ORM thread
    (where the async ORM and thread-sensitive sync_to_async calls run) busy while
    it is entered: code following chat.dbpool's rule does not wait for it."""
    import asyncio
    import contextlib
    import threading

    from asgiref.sync import sync_to_async

    @contextlib.asynccontextmanager
    async def busy():
        started, release = threading.Event(), threading.Event()

        def hold() -> None:
            started.set()
            release.wait(30)

        holder = asyncio.ensure_future(sync_to_async(hold)())
        await asyncio.to_thread(started.wait, 5)
        try:
            yield
        finally:
            release.set()
            await holder

    return busy


# --- Characters (chat.characters)


def png_card(card: dict | None, *, size=(48, 64), keyword="chara", text=None) -> bytes:
    """Return a PNG card built with Pillow as the Character Card V2 spec describes:
    the card's JSON, UTF-8, base64-encoded, in a tEXt chunk named `chara` (`text`
    overrides the chunk's text; card None: no chunk)."""
    import base64
    import io
    import json

    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if card is not None or text is not None:
        payload = text
        if payload is None:
            payload = base64.b64encode(json.dumps(card).encode("utf-8")).decode()
        info.add_text(keyword, payload)
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


@pytest.fixture
def media_root(settings, tmp_path):
    """Store uploads (avatars) under a temporary MEDIA_ROOT; return its path."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def make_character(db, media_root) -> Callable[..., object]:
    """Return make_character(owner, **fields) -> Character (private, on charglm-4,
    with a greeting and two alternates unless told otherwise)."""
    from chat.models import Character

    def make(owner: object, **fields: object) -> Character:
        fields.setdefault("name", "Lin Wei")
        fields.setdefault("description", "A tea-house keeper in old Chengdu.")
        fields.setdefault("greeting", "Welcome in, {{user}}!")
        fields.setdefault(
            "alternate_greetings", ["Back again?", "Rain again, {{user}}."]
        )
        fields.setdefault("default_model", "charglm-4")
        return Character.objects.create(owner=owner, **fields)

    return make
