"""Soft delete and anonymous access of the chat API. Another user's ids on every URL
are the generated suite's (tests/chat/test_access_control.py)."""

from __future__ import annotations

import pytest

from chat.models import Conversation


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
