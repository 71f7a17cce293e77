"""Every chat URL answers 404 for another user's object, just as for a missing one."""

from __future__ import annotations

import uuid

import pytest

from chat.models import Conversation, PromptPreset


@pytest.fixture
def mallorys(other_user, make_conversation, add_turns):
    conversation = make_conversation(other_user, title="secret plans")
    add_turns(conversation, [("the secret", "noted")])
    preset = PromptPreset.objects.create(
        owner=other_user, name="hers", system_prompt="p"
    )
    return conversation, preset


def _conversation_requests(cid: object) -> list[tuple[str, str, dict]]:
    return [
        ("get", f"/c/{cid}/", {}),
        ("get", f"/api/conversations/{cid}/", {}),
        ("patch", f"/api/conversations/{cid}/", {"title": "mine now"}),
        ("delete", f"/api/conversations/{cid}/", {}),
        ("post", f"/api/conversations/{cid}/restore/", {}),
        ("get", f"/api/conversations/{cid}/export.md", {}),
        ("get", f"/api/conversations/{cid}/export.json", {}),
        ("get", f"/api/conversations/{cid}/messages/", {}),
        ("get", f"/api/conversations/{cid}/messages/?before=1", {}),
    ]


def _send(client, method: str, url: str, body: dict):
    if method in {"post", "patch"}:
        return getattr(client, method)(url, body, content_type="application/json")
    return getattr(client, method)(url)


@pytest.mark.django_db
def test_other_users_conversation_is_404_on_every_url(alice_client, mallorys):
    conversation, _ = mallorys
    for method, url, body in _conversation_requests(conversation.pk):
        response = _send(alice_client, method, url, body)
        assert response.status_code == 404, (method, url, response.status_code)
        if url.startswith("/api/"):
            assert response.json()["error"]["code"] == "not_found"
    conversation.refresh_from_db()
    assert conversation.title == "secret plans"
    assert conversation.deleted_at is None


@pytest.mark.django_db
def test_missing_conversation_answers_exactly_like_another_users(
    alice_client, mallorys
):
    conversation, _ = mallorys
    missing = uuid.uuid4()
    for (method, url, body), (_, missing_url, _) in zip(
        _conversation_requests(conversation.pk),
        _conversation_requests(missing),
        strict=True,
    ):
        theirs = _send(alice_client, method, url, body)
        absent = _send(alice_client, method, missing_url, body)
        assert theirs.status_code == absent.status_code == 404
        assert theirs.content == absent.content


@pytest.mark.django_db
def test_other_users_preset_is_404_for_change_and_delete(alice_client, mallorys):
    _, preset = mallorys
    url = f"/api/presets/{preset.pk}/"
    changed = alice_client.patch(url, {"name": "x"}, content_type="application/json")
    deleted = alice_client.delete(url)
    assert changed.status_code == deleted.status_code == 404
    assert PromptPreset.objects.get(pk=preset.pk).name == "hers"


@pytest.mark.django_db
def test_other_users_conversations_never_listed_or_found(alice_client, mallorys):
    body = alice_client.get("/api/conversations/?q=secret").json()
    assert body == {"conversations": [], "next_cursor": None}
    presets = alice_client.get("/api/presets/").json()
    assert presets["own"] == []


@pytest.mark.django_db
def test_soft_deleted_conversation_is_404_until_restored(
    alice_client, user, make_conversation
):
    conversation = make_conversation(user, title="gone")
    url = f"/api/conversations/{conversation.pk}/"
    deleted = alice_client.delete(url).json()
    assert deleted["undo"] is True
    assert deleted["conversation"]["id"] == str(conversation.pk)
    assert alice_client.get(url).status_code == 404
    assert alice_client.get(f"/c/{conversation.pk}/").status_code == 404
    assert alice_client.get("/api/conversations/").json() == {
        "conversations": [],
        "next_cursor": None,
    }
    restored = alice_client.post(f"{url}restore/")
    assert restored.status_code == 200
    assert alice_client.get(url).status_code == 200
    assert Conversation.objects.get(pk=conversation.pk).deleted_at is None
    # Restoring twice: nothing deleted any more, so nothing to restore.
    assert alice_client.post(f"{url}restore/").status_code == 404


@pytest.mark.django_db
def test_anonymous_api_gets_401_json_and_pages_redirect(
    client, user, make_conversation
):
    conversation = make_conversation(user)
    for url in (
        "/api/conversations/",
        f"/api/conversations/{conversation.pk}/",
        f"/api/conversations/{conversation.pk}/export.json",
        f"/api/conversations/{conversation.pk}/messages/",
        "/api/presets/",
        "/api/models/",
    ):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.json()["error"]["code"] == "not_authenticated"
    page = client.get(f"/c/{conversation.pk}/")
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")
