"""The chat page: who may see it and the data it starts from."""

from __future__ import annotations

import json
import re

import pytest


def _page_data(response) -> dict:
    match = re.search(
        r'<script id="chat-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the page carries no chat-data json_script"
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_index_gives_the_page_its_data(alice_client, settings):
    settings.ZHIPUAI_API_KEY = "abcdef123456.SeCrEtPaRt987"
    response = alice_client.get("/", headers={"accept-language": "en"})
    assert response.status_code == 200
    assert "chat/index.html" in [t.name for t in response.templates]
    data = response.context["page_data"]
    assert data["conversation_id"] is None
    # Only what the script reads: strings come from the djangojs catalog instead.
    assert set(data) == {
        "conversation_id",
        "models",
        "default_model",
        "roleplay_models",
        "presets",
        "limits",
        "urls",
    }
    assert data["urls"]["conversation"] == "/api/conversations/{id}/"
    assert data["urls"]["socket"] == "/ws/chat/{id}/"
    assert data["default_model"] == "glm-4-flash"
    assert [m["code"] for m in data["models"]][:2] == ["glm-4-flash", "glm-4-air"]
    assert [p["key"] for p in data["presets"]["builtin"]] == [
        "coding",
        "writing",
        "analysis",
    ]
    assert data["limits"]["max_message_chars"] == 32000
    assert data["limits"]["temperature"] == {"min": 0.0, "max": 1.0}
    assert data["limits"]["max_tokens"] == {"min": 1, "max": 128000}
    assert _page_data(response) == data
    assert "SeCrEtPaRt987" not in response.content.decode()
    assert "csrftoken" in response.cookies


@pytest.mark.django_db
def test_conversation_page_names_its_conversation(
    alice_client, user, make_conversation
):
    conversation = make_conversation(user)
    response = alice_client.get(f"/c/{conversation.pk}/")
    assert response.status_code == 200
    assert response.context["page_data"]["conversation_id"] == str(conversation.pk)


@pytest.mark.django_db
def test_page_loads_the_script_catalog_before_its_modules(alice_client):
    page = alice_client.get("/").content.decode()
    catalog = page.index('<script src="/jsi18n/"></script>')
    assert catalog < page.index('<script type="module"')
    assert 'id="chat-i18n"' not in page


@pytest.mark.django_db
def test_script_catalog_follows_the_language_under_the_csp(client):
    chinese = client.get("/jsi18n/", headers={"accept-language": "zh-CN"})
    english = client.get("/jsi18n/", headers={"accept-language": "en"})
    assert chinese.status_code == english.status_code == 200
    assert chinese["Content-Type"].startswith("text/javascript")
    # Same origin: the page's script-src 'self' lets a <script src> load it.
    assert "script-src 'self'" in chinese["Content-Security-Policy"]
    assert json.dumps("已复制") in chinese.content.decode()
    assert json.dumps("已复制") not in english.content.decode()


@pytest.mark.django_db
def test_visitor_at_root_sees_the_about_page_not_the_chat(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "chat/index.html" not in [t.name for t in response.templates]
