"""Who may see, chat with, edit and export a character, over HTTP and the
websocket (chat/characters/access.py): private is the owner's alone, shared is for
everyone to chat with but only its owner to change, an admin can hide a shared one,
and everything else is a 404 exactly like a missing character."""

from __future__ import annotations

import io
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chat.characters import services
from chat.models import Character, Conversation

OTHER_VIEWS = [
    ("get", "/characters/{id}/"),
    ("get", "/characters/{id}/card.json"),
    ("get", "/characters/{id}/card.png"),
    ("get", "/characters/{id}/avatar/"),
    ("post", "/characters/{id}/chat/"),
    ("post", "/characters/{id}/duplicate/"),
]
OWNER_VIEWS = [
    ("get", "/characters/{id}/edit/"),
    ("post", "/characters/{id}/edit/"),
    ("get", "/characters/{id}/delete/"),
    ("post", "/characters/{id}/delete/"),
]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def with_avatar(make_character):
    def make(owner, **fields):
        character = make_character(owner, **fields)
        avatar = services.normalise_avatar(_png())
        return services.update_character(character, {}, avatar)

    return make


@pytest.fixture
def mallory_client(client, other_user):
    client.force_login(other_user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), OTHER_VIEWS + OWNER_VIEWS)
def test_private_character_is_a_404_for_another_user_like_a_missing_one(
    mallory_client, user, with_avatar, method, path
):
    character = with_avatar(user)
    theirs = getattr(mallory_client, method)(path.format(id=character.pk))
    missing = getattr(mallory_client, method)(path.format(id=uuid.uuid4()))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content
    assert Conversation.objects.count() == 0
    assert Character.objects.count() == 1
    assert Character.objects.get().name == "Lin Wei"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), OTHER_VIEWS)
def test_hidden_shared_character_is_a_404_for_others_but_not_its_owner(
    mallory_client, client, user, with_avatar, method, path
):
    character = with_avatar(user, visibility="shared", hidden_by_admin=True)
    assert (
        getattr(mallory_client, method)(path.format(id=character.pk)).status_code == 404
    )
    client.force_login(user)
    assert getattr(client, method)(path.format(id=character.pk)).status_code in {
        200,
        302,
    }


@pytest.mark.django_db
def test_shared_character_others_chat_export_and_copy_but_never_edit(
    mallory_client, other_user, user, with_avatar
):
    character = with_avatar(user, visibility="shared")
    assert mallory_client.get(f"/characters/{character.pk}/").status_code == 200
    avatar = mallory_client.get(f"/characters/{character.pk}/avatar/")
    assert avatar.status_code == 200
    assert avatar["Content-Type"] == "image/jpeg"
    assert avatar["X-Content-Type-Options"] == "nosniff"
    assert avatar.content.startswith(b"\xff\xd8")  # re-encoded by glmweb/images.py
    for method, path in OWNER_VIEWS:
        response = getattr(mallory_client, method)(
            path.format(id=character.pk),
            {"name": "Pwned", "default_model": "charglm-4"},
        )
        assert response.status_code == 404
    character.refresh_from_db()
    assert character.name == "Lin Wei"

    started = mallory_client.post(f"/characters/{character.pk}/chat/")
    conversation = Conversation.objects.get(owner=other_user)
    assert started["Location"] == f"/c/{conversation.pk}/"
    assert conversation.character == character
    # The conversation is theirs: the character's owner does not see it.
    assert not Conversation.objects.filter(owner=user).exists()

    copied = mallory_client.post(f"/characters/{character.pk}/duplicate/")
    copy = Character.objects.get(owner=other_user)
    assert copied["Location"] == f"/characters/{copy.pk}/edit/"
    assert copy.visibility == "private" and copy.avatar.name != character.avatar.name


@pytest.mark.django_db
def test_gallery_lists_own_and_shared_never_others_private_or_hidden(
    alice_client, user, other_user, make_character
):
    make_character(user, name="Mine", tags=["cosy"])
    make_character(other_user, name="Theirs shared", visibility="shared", tags=["奇幻"])
    make_character(other_user, name="Theirs private")
    make_character(
        other_user, name="Theirs hidden", visibility="shared", hidden_by_admin=True
    )
    page = alice_client.get("/characters/")
    names = [c.name for c in page.context["own"] + page.context["shared"]]
    assert names == ["Mine", "Theirs shared"]
    by_tag = alice_client.get("/characters/", {"tag": "奇幻"}).context
    assert [c.name for c in by_tag["own"] + by_tag["shared"]] == ["Theirs shared"]
    by_name = alice_client.get("/characters/", {"q": "mine"}).context
    assert [c.name for c in by_name["own"] + by_name["shared"]] == ["Mine"]
    by_tag_text = alice_client.get("/characters/", {"q": "cos"}).context
    assert [c.name for c in by_tag_text["own"]] == ["Mine"]


@pytest.mark.django_db
def test_start_chat_refuses_another_users_persona(
    alice_client, user, other_user, make_character
):
    from chat.models import Persona

    character = make_character(user)
    theirs = Persona.objects.create(owner=other_user, name="Spy")
    response = alice_client.post(
        f"/characters/{character.pk}/chat/", {"persona": theirs.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/characters/{character.pk}/"
    assert Conversation.objects.count() == 0


@pytest.mark.django_db
def test_roleplay_model_is_accepted_only_with_a_character_over_http(
    alice_client, user, make_character, make_conversation
):
    plain = make_conversation(user)
    refused = alice_client.patch(
        f"/api/conversations/{plain.pk}/",
        {"model": "charglm-4"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "model" in refused.json()["error"]["fields"]
    conversation = services.start_chat(user, make_character(user))
    for model in ("glm-4.6", "charglm-4"):
        changed = alice_client.patch(
            f"/api/conversations/{conversation.pk}/",
            {"model": model},
            content_type="application/json",
        )
        assert changed.status_code == 200
        assert changed.json()["conversation"]["model"] == model


@pytest.mark.django_db(transaction=True)
async def test_websocket_shows_a_shared_character_until_an_admin_hides_it(
    ws_connect, user, other_user, make_character
):
    shared = await sync_to_async(make_character)(other_user, visibility="shared")
    conversation = await sync_to_async(services.start_chat)(user, shared)
    ws = await ws_connect(user, conversation.pk)
    frame = await ws.receive_json_from()
    assert frame["conversation"]["character"]["name"] == "Lin Wei"
    await ws.disconnect()

    await sync_to_async(Character.objects.filter(pk=shared.pk).update)(
        hidden_by_admin=True
    )
    ws = await ws_connect(user, conversation.pk)
    frame = await ws.receive_json_from()
    assert frame["conversation"]["character"] is None
    # Their own messages (the greeting included) stay theirs.
    assert [m["role"] for m in frame["messages"]] == ["assistant"]
    # And the character's owner cannot open this user's conversation.
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from chat import routing

    other = WebsocketCommunicator(
        URLRouter(routing.websocket_urlpatterns), f"/ws/chat/{conversation.pk}/"
    )
    other.scope["user"] = other_user
    await other.connect()
    assert (await other.receive_output())["type"] == "websocket.close"
    await other.disconnect()


@pytest.mark.django_db
def test_avatar_upload_goes_through_the_image_normaliser(
    alice_client, user, media_root
):
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(jpeg, format="JPEG")
    response = alice_client.post(
        "/characters/new/",
        {
            "name": "Pic",
            "default_model": "charglm-4",
            "visibility": "private",
            "avatar_upload": SimpleUploadedFile("a.jpg", jpeg.getvalue()),
        },
    )
    character = Character.objects.get()
    assert response["Location"] == f"/characters/{character.pk}/"
    assert character.avatar.name.endswith(".jpg")
    refused = alice_client.post(
        "/characters/new/",
        {
            "name": "Bad",
            "default_model": "charglm-4",
            "visibility": "private",
            "avatar_upload": SimpleUploadedFile("a.png", b"not an image"),
        },
        headers={"accept-language": "en"},
    )
    assert refused.status_code == 400
    assert "not an image we can read" in refused.content.decode()
    assert Character.objects.count() == 1


@pytest.mark.django_db
def test_admin_hides_a_shared_character_from_everyone_but_its_owner(
    mallory_client, user, make_character, django_user_model
):
    from django.test import Client

    character = make_character(user, visibility="shared")
    assert mallory_client.get(f"/characters/{character.pk}/").status_code == 200
    admin = django_user_model.objects.create_superuser("root", password="pw-12345-x")
    admin_client = Client()
    admin_client.force_login(admin)
    response = admin_client.post(
        "/admin/chat/character/",
        {"action": "hide", "_selected_action": [str(character.pk)]},
    )
    assert response.status_code == 302
    character.refresh_from_db()
    assert character.hidden_by_admin
    assert mallory_client.get(f"/characters/{character.pk}/").status_code == 404
    owner_client = Client()
    owner_client.force_login(user)
    assert owner_client.get(f"/characters/{character.pk}/").status_code == 200
