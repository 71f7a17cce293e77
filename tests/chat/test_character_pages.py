"""The character pages and the greeting switcher's API: create, edit, delete,
personas (one default), start a chat, choose another greeting."""

from __future__ import annotations

import pytest

from chat.characters import services
from chat.models import Character, Conversation, Message, Persona

pytestmark = pytest.mark.django_db


def test_create_edit_and_delete_a_character(alice_client, user, media_root):
    created = alice_client.post(
        "/characters/new/",
        {
            "name": "  Ada  ",
            "description": "An engine.",
            "greeting": "Hello.",
            "alternate_greetings_text": "Second one.\n---\nThird\nline two.",
            "tags_text": "steam, 机械, steam",
            "default_model": "charglm-4",
            "visibility": "shared",
        },
    )
    character = Character.objects.get()
    assert created["Location"] == f"/characters/{character.pk}/"
    assert character.name == "Ada" and character.owner == user
    assert character.alternate_greetings == ["Second one.", "Third\nline two."]
    assert character.tags == ["steam", "机械"]
    form = alice_client.get(f"/characters/{character.pk}/edit/").context["form"]
    assert form.initial["alternate_greetings_text"] == (
        "Second one.\n---\nThird\nline two."
    )

    refused = alice_client.post(
        f"/characters/{character.pk}/edit/",
        {"name": "", "default_model": "glm-4-flash", "visibility": "private"},
        headers={"accept-language": "en"},
    )
    assert refused.status_code == 400
    assert set(refused.context["form"].errors) == {"name", "default_model"}
    character.refresh_from_db()
    assert character.name == "Ada" and character.visibility == "shared"

    conversation = services.start_chat(user, character)
    alice_client.post(f"/characters/{character.pk}/delete/")
    assert not Character.objects.exists()
    conversation.refresh_from_db()
    assert conversation.character is None  # the chat and its messages stay
    assert Message.objects.filter(conversation=conversation).count() == 1


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/characters/new/", {"default_model": "charglm-4", "visibility": "private"}),
        ("/characters/personas/", {}),
    ],
)
def test_a_name_of_spaces_is_no_name(alice_client, path, fields):
    refused = alice_client.post(
        path, {"name": " \u3000 ", **fields}, headers={"accept-language": "zh-hans"}
    )

    assert refused.status_code == 400
    assert refused.context["form"].errors.as_data()["name"][0].code == "required"
    assert refused.context["form"].errors["name"] == ["这个字段是必填项。"]
    assert not Character.objects.exists() and not Persona.objects.exists()


def test_one_default_persona_per_user(alice_client, user):
    alice_client.post("/characters/personas/", {"name": "Mei", "is_default": "on"})
    alice_client.post("/characters/personas/", {"name": "Kai", "is_default": "on"})
    assert list(
        Persona.objects.filter(owner=user).values_list("name", "is_default")
    ) == [("Kai", True), ("Mei", False)]
    for page in ["/characters/", "/characters/personas/", "/characters/import/"]:
        shown = alice_client.get(page)
        assert shown.status_code == 200
        assert b"/static/characters/characters.css" in shown.content
        assert b'<main class="page characters"' in shown.content


def test_a_persona_is_changed_only_by_its_owner(alice_client, user, other_user):
    mine = Persona.objects.create(owner=user, name="Mei")
    theirs = Persona.objects.create(owner=other_user, name="Kai")

    saved = alice_client.post(
        f"/characters/personas/{mine.pk}/", {"name": "Mei Lin", "description": "x"}
    )
    refused = alice_client.post(f"/characters/personas/{mine.pk}/", {"name": " "})
    foreign = [
        alice_client.get(f"/characters/personas/{theirs.pk}/"),
        alice_client.post(f"/characters/personas/{theirs.pk}/", {"name": "Mine"}),
        alice_client.post(f"/characters/personas/{theirs.pk}/delete/"),
    ]

    assert saved.status_code == 302 and saved["Location"] == "/characters/personas/"
    assert refused.status_code == 400 and refused.context["persona"] == mine
    mine.refresh_from_db()
    assert (mine.name, mine.description) == ("Mei Lin", "x")
    assert [response.status_code for response in foreign] == [404, 404, 404]
    assert Persona.objects.get(pk=theirs.pk).name == "Kai"


def test_start_chat_opens_with_the_greeting_and_uses_the_default_persona(
    alice_client, user, make_character
):
    character = make_character(user)
    persona = Persona.objects.create(owner=user, name="Mei", is_default=True)
    page = alice_client.get(f"/characters/{character.pk}/")
    assert page.context["start_form"].initial["persona"] == persona.pk
    response = alice_client.post(
        f"/characters/{character.pk}/chat/", {"persona": persona.pk}
    )
    conversation = Conversation.objects.get()
    assert response["Location"] == f"/c/{conversation.pk}/"
    assert conversation.persona == persona and conversation.model == "charglm-4"
    (greeting,) = Message.objects.filter(conversation=conversation)
    assert (greeting.role, greeting.content) == ("assistant", "Welcome in, Mei!")


def test_greeting_switcher_changes_the_opening_only_before_the_first_message(
    alice_client, user, make_character
):
    conversation = services.start_chat(user, make_character(user))
    url = f"/api/conversations/{conversation.pk}/greeting/"
    switched = alice_client.post(url, {"index": 2}, content_type="application/json")
    assert switched.status_code == 200
    body = switched.json()
    assert body["message"]["content"] == "Rain again, User."
    assert body["conversation"]["character"]["greeting_index"] == 2
    bad = alice_client.post(url, {"index": 7}, content_type="application/json")
    assert bad.status_code == 409
    Message.objects.create(conversation=conversation, role="user", content="Hi")
    locked = alice_client.post(
        url,
        {"index": 0},
        content_type="application/json",
        headers={"accept-language": "en"},
    )
    assert locked.status_code == 409
    assert locked.json()["error"]["message"] == (
        "The greeting can only be changed before your first message."
    )
    first = Message.objects.filter(conversation=conversation).order_by("id").first()
    assert first is not None and first.content == "Rain again, User."


def test_greeting_api_is_a_404_on_another_users_conversation(
    client, user, other_user, make_character
):
    conversation = services.start_chat(user, make_character(user))
    client.force_login(other_user)
    response = client.post(
        f"/api/conversations/{conversation.pk}/greeting/",
        {"index": 1},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert Message.objects.get(conversation=conversation).content == "Welcome in, User!"
