"""Access control, generated from the URLconf and the frame parser (issue 13, item 2).

User A (alice) owns one of every object (tests/chat/access_world.py). User B
(mallory) sends every method to every URL that takes an id, with each of A's ids and
with a missing id, and every client frame that carries an id: B's answer is exactly
the missing id's answer, and no row anywhere changes. A URL with an id that is not
classified below, or a frame type not classified, fails the suite until it is.

Ids that arrive in bodies and frames (owner, user, user_id, conversation) never take
the place of the session's user.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chat import routing
from chat.models import (
    Attachment,
    Character,
    Conversation,
    Message,
    Persona,
    PromptPreset,
)
from media_jobs.models import VideoJob
from tests.chat.access_world import build_world, png, snapshot, urls_with_arguments
from tests.chat.test_protocol_docs import parsed_types

# URL name -> for each keyword of its route, which of the owner's ids to put there.
OWNED_URLS: dict[str, dict[str, str]] = {
    "chat:conversation": {"conversation_id": "conversation_id"},
    "chat:api_conversation": {"conversation_id": "conversation_id"},
    "chat:api_conversation_messages": {"conversation_id": "conversation_id"},
    "chat:api_conversation_restore": {"conversation_id": "conversation_id"},
    "chat:api_export_markdown": {"conversation_id": "conversation_id"},
    "chat:api_export_json": {"conversation_id": "conversation_id"},
    "chat:api_conversation_greeting": {"conversation_id": "conversation_id"},
    "chat:api_preset": {"preset_id": "preset_id"},
    "chat:api_attachment": {"attachment_id": "attachment_id"},
    "chat:api_attachment_copy": {"attachment_id": "attachment_id"},
    "chat:attachment_file": {"attachment_id": "attachment_id"},
    "chat:attachment_thumbnail": {"attachment_id": "attachment_id"},
    "characters:persona_edit": {"persona_id": "persona_id"},
    "characters:persona_delete": {"persona_id": "persona_id"},
    "characters:detail": {"character_id": "character_id"},
    "characters:edit": {"character_id": "character_id"},
    "characters:duplicate": {"character_id": "character_id"},
    "characters:delete": {"character_id": "character_id"},
    "characters:start_chat": {"character_id": "character_id"},
    "characters:export_json": {"character_id": "character_id"},
    "characters:export_png": {"character_id": "character_id"},
    "characters:avatar": {"character_id": "character_id"},
    "media_jobs:cancel": {"job_id": "job_id"},
    "media_jobs:retry": {"job_id": "job_id"},
    "media_jobs:delete": {"job_id": "job_id"},
    "media_jobs:file": {"job_id": "job_id", "kind": "file_kind"},
}
# URLs with an argument that names no user's object, and why.
NOT_OWNED_URLS: dict[str, str] = {
    "chat:assistant_start": "the platform's public agent catalog (chat.assistants)",
    "chat:attachment_public": "a signed, expiring token (chat.vision.public_url)",
}
# The admin is for staff only; B is not staff, so every admin URL is the log-in page.
STAFF_NAMESPACE = "admin"

# Client frame type -> the fields carrying ids of objects, with what B's socket gets
# back for a missing id.
ID_FRAMES: dict[str, dict[str, Any]] = {
    "message.send": {"text": "hi", "attachments": "attachment_id"},
    "message.edit": {"text": "mine now", "message_id": "message_id"},
    "reply.continue": {"message_id": "message_id"},
    "reply.select": {"message_id": "message_id"},
    "reply.stop": {"message_id": "message_id"},
}
# Frame types that carry no object id (the conversation is the socket's own).
NO_ID_FRAMES = {"reply.regenerate": "only a client_id, scoped to B's own conversation"}

MISSING = {
    "conversation_id": uuid.UUID(int=1),
    "preset_id": 2_000_000_001,
    "attachment_id": 2_000_000_001,
    "persona_id": 2_000_000_001,
    "character_id": uuid.UUID(int=1),
    "job_id": 2_000_000_001,
    "message_id": 2_000_000_001,
}
# In every one of A's objects; searched for in lower case, so a page echoing the
# query does not count as showing it.
SECRET = "Tangerine Orchard"
FILE_KINDS = ["video", "cover", "source"]
METHODS = ["get", "head", "post", "put", "patch", "delete"]
# A body every view could act on if it wrongly let B in.
JSON_BODY = {
    "title": "mine now",
    "name": "Pwned",
    "system_prompt": "pwned",
    "index": 1,
    "archived": True,
}
FORM_BODY = {"name": "Pwned", "description": "pwned", "default_model": "charglm-4"}


def test_every_url_with_an_argument_is_classified():
    found = urls_with_arguments()
    unclassified = {
        name
        for name in found
        if name not in OWNED_URLS
        and name not in NOT_OWNED_URLS
        and not name.startswith(f"{STAFF_NAMESPACE}:")
    }
    assert not unclassified, f"classify these URLs in {__name__}: {unclassified}"
    for name, keywords in OWNED_URLS.items():
        assert found.get(name) == set(keywords), name


def test_every_client_frame_type_is_classified():
    assert set(ID_FRAMES) | set(NO_ID_FRAMES) == parsed_types()


def test_the_only_websocket_route_is_the_conversation_socket():
    # A new socket route needs its own rows in this suite.
    assert len(routing.websocket_urlpatterns) == 1


@pytest.fixture
def alices(user, media_root):
    return build_world(user, secret=SECRET)


@pytest.fixture
def mallory(client, other_user):
    client.force_login(other_user)
    return client


def _request(client: Any, method: str, url: str, name: str) -> Any:
    if method in {"get", "head", "delete"}:
        return getattr(client, method)(url)
    if "api" in name or name.startswith("chat:attachment"):
        return getattr(client, method)(
            url, json.dumps(JSON_BODY), content_type="application/json"
        )
    if method == "post":
        return client.post(url, FORM_BODY)
    return getattr(client, method)(url, "name=Pwned")


def _targets(world: Any, keywords: dict[str, str]) -> Iterator[dict[str, object]]:
    """Yield the URL kwargs naming each of A's objects (and each file kind)."""
    ((keyword, kind),) = [(k, v) for k, v in keywords.items() if k != "kind"]
    kinds = FILE_KINDS if "kind" in keywords else [None]
    for value in world.ids[kind]:
        for file_kind in kinds:
            yield {keyword: value, **({"kind": file_kind} if file_kind else {})}


def _missing(target: dict[str, object], keywords: dict[str, str]) -> dict[str, object]:
    return {k: MISSING[keywords[k]] if k != "kind" else v for k, v in target.items()}


def _content(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(OWNED_URLS))
def test_another_users_id_answers_like_a_missing_one_and_changes_nothing(
    name, alices, mallory
):
    keywords = OWNED_URLS[name]
    before = snapshot()
    answered = set()
    for target in _targets(alices, keywords):
        url = reverse(name, kwargs=target)
        missing_url = reverse(name, kwargs=_missing(target, keywords))
        for method in METHODS:
            theirs = _request(mallory, method, url, name)
            absent = _request(mallory, method, missing_url, name)
            where = (method, url)
            assert theirs.status_code == absent.status_code, where
            assert theirs.status_code in {404, 405}, (where, theirs.status_code)
            assert _content(theirs) == _content(absent), where
            answered.add(theirs.status_code)
    assert 404 in answered  # some method reached the lookup
    assert snapshot() == before


@pytest.mark.django_db
def test_staff_urls_send_another_user_to_the_log_in_page(alices, mallory):
    before = snapshot()
    admin_urls = [
        (name, keywords)
        for name, keywords in urls_with_arguments().items()
        # Unnamed ones (the admin's old-style redirects) cannot be reversed; they
        # sit behind the same admin_view wrapper.
        if name.startswith(f"{STAFF_NAMESPACE}:") and not name.endswith(":None")
    ]
    assert admin_urls
    pk = str(alices.conversation.pk)
    for name, keywords in admin_urls:
        kwargs = {k: "chat" if k == "app_label" else pk for k in keywords}
        if "content_type_id" in kwargs:
            kwargs["content_type_id"] = "1"
        url = reverse(name, kwargs=kwargs)
        for method in ("get", "post"):
            response = getattr(mallory, method)(url, {"title": "pwned"})
            assert response.status_code == 302, (method, url)
            assert response["Location"].startswith("/admin/login/"), url
    assert snapshot() == before


@pytest.mark.django_db
def test_listings_and_search_never_show_another_users_objects(alices, mallory):
    query = SECRET.split()[0].lower()
    assert mallory.get(f"/api/conversations/?q={query}").json()["conversations"] == []
    assert mallory.get("/api/conversations/?archived=1").json()["conversations"] == []
    assert mallory.get("/api/presets/").json()["own"] == []
    for url in ("/characters/", f"/characters/?q={query}", "/characters/personas/"):
        assert SECRET.encode() not in mallory.get(url).content, url
    status = mallory.get("/videos/status/").json()
    assert status["ids"] == [] and status["jobs"] == []
    assert SECRET.encode() not in mallory.get("/videos/").content


# --- Ids in bodies never replace the session's user


OWNER_FIELDS = {"owner": None, "owner_id": None, "user": None, "user_id": None}


@pytest.mark.django_db
def test_owner_fields_in_bodies_never_replace_the_session_user(
    alices, mallory, other_user, settings
):
    settings.VIDEO_MAX_IN_FLIGHT = 100
    alice = alices.owner.pk
    planted = {k: alice for k in OWNER_FIELDS}
    as_json = {"content_type": "application/json"}
    made = [
        (
            mallory.post(
                "/api/conversations/",
                json.dumps({"title": "b's", **planted}),
                **as_json,
            ),
            Conversation,
        ),
        (
            mallory.post(
                "/api/presets/",
                json.dumps({"name": "b's", "system_prompt": "x", **planted}),
                **as_json,
            ),
            PromptPreset,
        ),
        (
            mallory.post(
                "/api/attachments/",
                {"file": SimpleUploadedFile("b.png", png((9, 9, 9))), **planted},
            ),
            Attachment,
        ),
        (
            mallory.post(
                "/characters/new/",
                {
                    "name": "b's",
                    "default_model": "charglm-4",
                    "visibility": "private",
                    **planted,
                },
            ),
            Character,
        ),
        (
            mallory.post("/characters/personas/", {"name": "b's", **planted}),
            Persona,
        ),
        (
            mallory.post(
                "/videos/",
                {
                    "prompt": "b's fox",
                    "model": "cogvideox-3",
                    "quality": "speed",
                    "size": "1280x720",
                    "fps": "30",
                    "duration": "5",
                    **planted,
                },
            ),
            VideoJob,
        ),
    ]
    for response, model in made:
        assert response.status_code in {201, 302}, (model, response.content[:300])
        newest = model.objects.order_by("-created_at").first()
        assert newest.owner_id == other_user.pk, model
    # None of A's rows gained a sibling owned by A.
    assert Conversation.objects.filter(owner=alices.owner).count() == 3
    assert PromptPreset.objects.filter(owner=alices.owner).count() == 1


# --- The websocket


pytest_ws = pytest.mark.django_db(transaction=True)


async def _closed_code(user: Any, conversation_id: object) -> Any:
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    communicator = WebsocketCommunicator(
        URLRouter(routing.websocket_urlpatterns), f"/ws/chat/{conversation_id}/"
    )
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    closed = await communicator.receive_output(2)
    await communicator.disconnect()
    return closed


@pytest_ws
async def test_another_users_sockets_close_like_a_missing_one(
    reply_engine, user, other_user, media_root
):
    world = await sync_to_async(build_world)(user)
    before = await sync_to_async(snapshot)()
    missing = await _closed_code(other_user, MISSING["conversation_id"])
    assert missing == {"type": "websocket.close", "code": 4403}
    for conversation_id in world.ids["conversation_id"]:
        assert await _closed_code(other_user, conversation_id) == missing
    assert await sync_to_async(snapshot)() == before


def _id_frame(kind: str, value: object) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": kind, "client_id": str(uuid.uuid4())}
    for field_name, spec in ID_FRAMES[kind].items():
        if spec in MISSING:
            frame[field_name] = [value] if field_name == "attachments" else value
        else:
            frame[field_name] = spec
    return frame


async def _answer(ws: Any) -> dict[str, Any] | None:
    """Return the socket's answer to one frame (None: it answered nothing)."""
    if await ws.receive_nothing(0.3):
        return None
    answer = await ws.receive_json_from()
    answer.pop("client_id", None)
    return answer


@pytest_ws
@pytest.mark.parametrize("kind", sorted(ID_FRAMES))
async def test_frames_with_another_users_ids_answer_like_missing_ones(
    kind, glm_settings, ws_connect, user, other_user, make_conversation, media_root
):
    glm_settings.GLMWEB_MESSAGES_PER_MINUTE = 10_000
    world = await sync_to_async(build_world)(user)
    own = await sync_to_async(make_conversation)(other_user, model="glm-4v-flash")
    field_kind = next(v for v in ID_FRAMES[kind].values() if v in MISSING)
    before = await sync_to_async(snapshot)()
    ws = await ws_connect(other_user, own.pk)
    await ws.receive_json_from()  # conversation.history
    await ws.send_json_to(_id_frame(kind, MISSING[field_kind]))
    absent = await _answer(ws)
    # reply.stop answers nothing, for any id; the others refuse a missing one.
    assert (absent is None) == (kind == "reply.stop"), absent
    for value in world.ids[field_kind]:
        await ws.send_json_to(_id_frame(kind, value))
        assert await _answer(ws) == absent, (kind, value)
    assert await sync_to_async(snapshot)() == before


@pytest_ws
async def test_ids_in_a_frame_never_replace_the_socket_user(
    glm_settings, ws_connect, user, other_user, make_conversation, media_root
):
    world = await sync_to_async(build_world)(user)
    own = await sync_to_async(make_conversation)(other_user)
    ws = await ws_connect(other_user, own.pk)
    await ws.receive_json_from()
    planted = {
        "owner": user.pk,
        "owner_id": user.pk,
        "user": user.pk,
        "user_id": user.pk,
        "conversation": str(world.conversation.pk),
        "conversation_id": str(world.conversation.pk),
    }
    await ws.send_json_to(
        {
            "type": "message.send",
            "client_id": str(uuid.uuid4()),
            "text": "b's",
            **planted,
        }
    )
    while (await ws.receive_json_from(10))["type"] != "reply.end":
        pass
    sent = await Message.objects.select_related("conversation").aget(content="b's")
    assert sent.conversation_id == own.pk
    assert sent.conversation.owner_id == other_user.pk
    assert await Message.objects.filter(conversation=world.conversation).acount() == 3


@pytest_ws
async def test_stopping_another_users_streaming_reply_by_id_does_nothing(
    glm_settings, ws_connect, user, other_user, make_conversation
):
    theirs = await sync_to_async(make_conversation)(user)
    own = await sync_to_async(make_conversation)(other_user)
    alice = await ws_connect(user, theirs.pk)
    mallory = await ws_connect(other_user, own.pk)
    await alice.receive_json_from()
    await mallory.receive_json_from()
    await alice.send_json_to(
        {
            "type": "message.send",
            "client_id": str(uuid.uuid4()),
            "text": "Slow [[sim:tokens=40,rate=40]]",
        }
    )
    created = await alice.receive_json_from(10)
    assert created["type"] == "message.created"
    streaming = created["assistant"]["id"]
    await mallory.send_json_to({"type": "reply.stop", "message_id": streaming})
    assert await mallory.receive_nothing(0.3)
    while (frame := await alice.receive_json_from(10))["type"] != "reply.end":
        pass
    assert frame["message"]["status"] == "complete"
