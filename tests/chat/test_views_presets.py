"""The presets and models API."""

from __future__ import annotations

import pytest

from chat.models import PromptPreset

JSON = "application/json"


@pytest.mark.django_db
def test_builtin_presets_are_the_seeds_prompts_in_chinese(alice_client):
    body = alice_client.get(
        "/api/presets/", headers={"accept-language": "zh-hans"}
    ).json()
    by_key = {preset["key"]: preset for preset in body["builtin"]}
    assert by_key["coding"]["system_prompt"] == (
        "你是一个专业的程序员助手，精通 Python、JavaScript 和 Go。"
    )
    assert by_key["writing"]["system_prompt"] == (
        "你是一个创意写作助手，擅长创作故事和文章。"
    )
    assert by_key["analysis"]["system_prompt"] == (
        "你是一个数据分析专家，擅长从数据中提取洞察。"
    )
    assert by_key["coding"]["name"] == "编程助手"
    assert by_key["coding"]["id"] == "builtin:coding"
    assert body["own"] == []


@pytest.mark.django_db
def test_builtin_presets_speak_english_to_an_english_browser(alice_client):
    body = alice_client.get("/api/presets/", headers={"accept-language": "en"}).json()
    names = [preset["name"] for preset in body["builtin"]]
    assert names == ["Coding assistant", "Writing assistant", "Data analyst"]
    assert "Python, JavaScript and Go" in body["builtin"][0]["system_prompt"]


@pytest.mark.django_db
def test_own_preset_create_change_delete(alice_client, user):
    created = alice_client.post(
        "/api/presets/",
        {"name": "Reviewer", "system_prompt": "Review code strictly."},
        content_type=JSON,
    )
    assert created.status_code == 201
    preset = created.json()["preset"]
    assert preset == {
        "id": preset["id"],
        "key": None,
        "name": "Reviewer",
        "system_prompt": "Review code strictly.",
        "builtin": False,
    }
    changed = alice_client.patch(
        f"/api/presets/{preset['id']}/", {"name": "Strict"}, content_type=JSON
    )
    assert changed.json()["preset"]["name"] == "Strict"
    assert changed.json()["preset"]["system_prompt"] == "Review code strictly."
    listed = alice_client.get("/api/presets/").json()["own"]
    assert [p["name"] for p in listed] == ["Strict"]
    assert alice_client.delete(f"/api/presets/{preset['id']}/").json() == {
        "deleted": True
    }
    assert not PromptPreset.objects.filter(owner=user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "body", "field", "expected"),
    [
        ("en", {"name": "", "system_prompt": "p"}, "name", "This field is required."),
        (
            "zh-hans",
            {"name": "n", "system_prompt": "  "},
            "system_prompt",
            "这个字段是必填项。",
        ),
        (
            "en",
            {"name": "n" * 81, "system_prompt": "p"},
            "name",
            "at most 80 characters",
        ),
        ("zh-hans", {"name": "n" * 81, "system_prompt": "p"}, "name", "80"),
    ],
)
def test_preset_validation_errors_in_the_users_language(
    alice_client, language, body, field, expected
):
    response = alice_client.post(
        "/api/presets/",
        body,
        content_type=JSON,
        headers={"accept-language": language},
    )
    assert response.status_code == 400
    messages = response.json()["error"]["fields"][field]
    assert any(expected in message for message in messages), messages
    assert not PromptPreset.objects.exists()


@pytest.mark.django_db
def test_duplicate_preset_name_is_refused_in_chinese(alice_client, user):
    PromptPreset.objects.create(owner=user, name="Mine", system_prompt="a")
    response = alice_client.post(
        "/api/presets/",
        {"name": "Mine", "system_prompt": "b"},
        content_type=JSON,
        headers={"accept-language": "zh-hans"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["name"] == ["你已经有一个同名的预设。"]
    assert PromptPreset.objects.get(owner=user).system_prompt == "a"


@pytest.mark.django_db
def test_same_preset_name_is_fine_for_two_users(alice_client, other_user):
    PromptPreset.objects.create(owner=other_user, name="Mine", system_prompt="a")
    response = alice_client.post(
        "/api/presets/", {"name": "Mine", "system_prompt": "b"}, content_type=JSON
    )
    assert response.status_code == 201


@pytest.mark.django_db
def test_models_api_returns_the_catalog(alice_client, settings):
    settings.CHAT_MODELS = [
        {"code": "glm-4-flash", "label": "Flash", "context": 1000,
         "capabilities": ["text"]},
        {"code": "glm-4.6", "label": "4.6", "context": 200000, "max_output": 128000,
         "capabilities": ["text", "thinking", "web_search"]},
    ]  # fmt: skip
    body = alice_client.get("/api/models/").json()
    assert body["default_model"] == "glm-4-flash"
    assert body["models"] == [
        {"code": "glm-4-flash", "label": "Flash", "context": 1000,
         "max_output": 1000, "capabilities": ["text"], "vision": None},
        {"code": "glm-4.6", "label": "4.6", "context": 200000, "max_output": 128000,
         "capabilities": ["text", "thinking", "web_search"], "vision": None},
    ]  # fmt: skip
