"""The conversations API: create, list, search, change, delete, load."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import Conversation, Message, Summary

JSON = "application/json"


@pytest.mark.django_db
def test_create_without_fields_uses_catalog_defaults(alice_client, user, settings):
    settings.ZHIPUAI_CHAT_MODEL = "glm-4-air"
    response = alice_client.post("/api/conversations/", {}, content_type=JSON)
    assert response.status_code == 201
    body = response.json()["conversation"]
    assert body["model"] == "glm-4-air"
    assert body["title"] == ""
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (
        None,
        None,
        None,
    )
    saved = Conversation.objects.get(pk=body["id"])
    assert saved.owner == user and saved.title_is_auto


@pytest.mark.django_db
def test_create_with_settings_saves_them(alice_client):
    response = alice_client.post(
        "/api/conversations/",
        {
            "model": "glm-4.6",
            "system_prompt": "Be brief.",
            "temperature": 0,
            "top_p": 1,
            "max_tokens": 2000,
            "web_search": True,
            "thinking": True,
        },
        content_type=JSON,
    )
    assert response.status_code == 201
    saved = Conversation.objects.get(pk=response.json()["conversation"]["id"])
    assert (saved.model, saved.system_prompt, saved.temperature, saved.top_p) == (
        "glm-4.6",
        "Be brief.",
        0.0,
        1.0,
    )
    assert (saved.max_tokens, saved.web_search, saved.thinking) == (2000, True, True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "field", "value", "expected"),
    [
        ("en", "temperature", 1.5, "Ensure this value is less than or equal to 1.0."),
        ("zh-hans", "temperature", 1.5, "确保该值小于或等于1.0。"),
        ("en", "top_p", 0, "Must be greater than 0 and at most 1."),
        ("zh-hans", "top_p", 0, "必须大于 0 且不大于 1。"),
        ("en", "max_tokens", 5000, "GLM-4-Flash writes at most 4095 tokens per reply."),
        ("zh-hans", "max_tokens", 5000, "GLM-4-Flash 每次回复最多生成 4095 个 token。"),
        ("en", "max_tokens", 1.5, "Enter a whole number."),
        ("en", "thinking", True, "GLM-4-Flash has no thinking mode."),
        ("zh-hans", "web_search", "yes", "必须是 true 或 false。"),
        ("en", "model", "gpt-4", "Select a valid choice."),
        (
            "en",
            "model",
            "charglm-4",
            "CharGLM-4 is a role-play model: it needs a character. Start a chat from "
            "a character to use it, or choose another model.",
        ),
        (
            "zh-hans",
            "model",
            "CharGLM-4",
            "CharGLM-4 是角色扮演模型，需要角色设定：请从角色开始对话再使用它，"
            "或换一个模型。",
        ),
    ],
)
def test_create_refuses_out_of_range_settings_in_the_users_language(
    alice_client, language, field, value, expected
):
    response = alice_client.post(
        "/api/conversations/",
        {"model": "glm-4-flash", field: value}
        if field != "model"
        else {"model": value},
        content_type=JSON,
        headers={"accept-language": language},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert any(expected in message for message in error["fields"][field])
    if language == "zh-hans":
        assert error["message"] == "请修改下面标出的内容。"
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_body_that_is_not_a_json_object_is_refused(alice_client):
    for body in ("not json", "[1, 2]"):
        response = alice_client.post("/api/conversations/", body, content_type=JSON)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_json"


@pytest.mark.django_db
def test_list_puts_pinned_first_then_most_recent(alice_client, user, make_conversation):
    old = make_conversation(user, title="old")
    pinned_old = make_conversation(user, title="pinned", pinned=True)
    new = make_conversation(user, title="new")
    archived = make_conversation(user, title="archived", archived=True)
    now = timezone.now()
    for conversation, age in ((old, 3), (pinned_old, 5), (new, 1), (archived, 0)):
        Conversation.objects.filter(pk=conversation.pk).update(
            updated_at=now - timedelta(hours=age)
        )
    titles = [
        c["title"]
        for c in alice_client.get("/api/conversations/").json()["conversations"]
    ]
    assert titles == ["pinned", "new", "old"]
    archived_list = alice_client.get("/api/conversations/?archived=1").json()
    assert [c["title"] for c in archived_list["conversations"]] == ["archived"]


@pytest.mark.django_db
def test_search_matches_title_and_message_text_with_a_snippet(
    alice_client, user, make_conversation, add_turns
):
    by_title = make_conversation(user, title="Rust lifetimes")
    by_text = make_conversation(user, title="Evening chat")
    add_turns(
        by_text,
        [("Tell me something " * 5 + "about RUST borrow checking please", "Sure.")],
    )
    hidden = make_conversation(user, title="Hidden turns")
    add_turns(hidden, [("rust in a superseded turn", "ok")])
    Message.objects.filter(conversation=hidden).update(superseded=True)
    make_conversation(user, title="unrelated")

    found = alice_client.get("/api/conversations/?q=rust").json()["conversations"]
    by_id = {row["id"]: row for row in found}
    assert set(by_id) == {str(by_title.pk), str(by_text.pk)}
    assert "snippet" not in by_id[str(by_title.pk)]
    snippet = by_id[str(by_text.pk)]["snippet"]
    assert "RUST borrow checking" in snippet
    assert snippet.startswith("…")
    assert len(snippet) < 120


@pytest.mark.django_db
def test_search_finds_chinese_message_text(
    alice_client, user, make_conversation, add_turns
):
    conversation = make_conversation(user, title="")
    add_turns(conversation, [("你好", "我们来讨论量子计算的基本原理吧")])
    found = alice_client.get("/api/conversations/", {"q": "量子计算"}).json()
    assert [row["id"] for row in found["conversations"]] == [str(conversation.pk)]
    assert "量子计算" in found["conversations"][0]["snippet"]


@pytest.mark.django_db
def test_rename_turns_automatic_title_off(alice_client, user, make_conversation):
    conversation = make_conversation(user)
    response = alice_client.patch(
        f"/api/conversations/{conversation.pk}/",
        {"title": "  My plan  "},
        content_type=JSON,
    )
    assert response.status_code == 200
    assert response.json()["conversation"]["title"] == "My plan"
    conversation.refresh_from_db()
    assert conversation.title == "My plan" and not conversation.title_is_auto


@pytest.mark.django_db
def test_rename_to_nothing_is_refused_in_chinese(alice_client, user, make_conversation):
    conversation = make_conversation(user, title="keep")
    response = alice_client.patch(
        f"/api/conversations/{conversation.pk}/",
        {"title": "   "},
        content_type=JSON,
        headers={"accept-language": "zh-hans"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"title": ["请输入标题。"]}
    conversation.refresh_from_db()
    assert conversation.title == "keep"


@pytest.mark.django_db
def test_pin_and_archive_change_only_those_fields_and_keep_recency(
    alice_client, user, make_conversation
):
    conversation = make_conversation(user, title="t", temperature=0.4)
    before = Conversation.objects.get(pk=conversation.pk).updated_at
    response = alice_client.patch(
        f"/api/conversations/{conversation.pk}/",
        {"pinned": True, "archived": True},
        content_type=JSON,
    )
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.pinned and conversation.archived
    assert conversation.temperature == 0.4 and conversation.title == "t"
    assert conversation.updated_at == before


@pytest.mark.django_db
def test_changing_model_turns_off_flags_it_lacks(alice_client, user, make_conversation):
    conversation = make_conversation(
        user, model="glm-4.6", web_search=True, thinking=True
    )
    response = alice_client.patch(
        f"/api/conversations/{conversation.pk}/",
        {"model": "glm-4-flash"},
        content_type=JSON,
    )
    body = response.json()["conversation"]
    assert (body["model"], body["web_search"], body["thinking"]) == (
        "glm-4-flash",
        True,
        False,
    )


@pytest.mark.django_db
def test_patch_checks_max_tokens_against_the_conversations_model(
    alice_client, user, make_conversation
):
    conversation = make_conversation(user, model="glm-4.6")
    ok = alice_client.patch(
        f"/api/conversations/{conversation.pk}/",
        {"max_tokens": 64000},
        content_type=JSON,
    )
    assert ok.status_code == 200
    too_many = alice_client.patch(
        f"/api/conversations/{conversation.pk}/",
        {"model": "glm-4v-flash", "max_tokens": 2000},
        content_type=JSON,
        headers={"accept-language": "en"},
    )
    assert too_many.status_code == 400
    assert too_many.json()["error"]["fields"]["max_tokens"] == [
        "GLM-4V-Flash writes at most 1024 tokens per reply."
    ]
    conversation.refresh_from_db()
    assert (conversation.model, conversation.max_tokens) == ("glm-4.6", 64000)


@pytest.mark.django_db
def test_detail_returns_visible_messages_in_order_and_active_summaries(
    alice_client, user, make_conversation, add_turns
):
    conversation = make_conversation(user)
    first, reply, hidden_question, hidden_reply = add_turns(
        conversation, [("one", "uno"), ("two", "dos")]
    )
    Message.objects.filter(pk__in=[hidden_question.pk, hidden_reply.pk]).update(
        superseded=True
    )
    summary = Summary.objects.create(
        conversation=conversation, content="s", covers_until=reply, covered_messages=2
    )
    Summary.objects.create(
        conversation=conversation,
        content="retired",
        covers_until=hidden_reply,
        covered_messages=4,
    )
    body = alice_client.get(f"/api/conversations/{conversation.pk}/").json()
    assert [m["content"] for m in body["messages"]] == ["one", "uno"]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert [s["id"] for s in body["summaries"]] == [summary.pk]
    assert body["conversation"]["id"] == str(conversation.pk)


@pytest.mark.django_db
def test_loading_a_conversation_takes_the_same_queries_whatever_its_length(
    alice_client, user, make_conversation, add_turns
):
    short = make_conversation(user)
    add_turns(short, [("q", "a")])
    long = make_conversation(user)
    turns = add_turns(long, [(f"q{i}", f"a{i}") for i in range(150)])
    Summary.objects.create(
        conversation=long, content="s", covers_until=turns[99], covered_messages=100
    )
    counts = []
    for conversation in (short, long):
        with CaptureQueriesContext(connection) as queries:
            response = alice_client.get(f"/api/conversations/{conversation.pk}/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert len(response.json()["messages"]) == 300


@pytest.mark.django_db
def test_loading_a_long_conversation_stays_at_six_queries(
    alice_client, user, make_conversation, add_turns, django_assert_max_num_queries
):
    conversation = make_conversation(user)
    add_turns(conversation, [(f"q{i}", f"a{i}") for i in range(200)])
    # Session, user, conversation, messages, their attachments, summaries.
    with django_assert_max_num_queries(6):
        response = alice_client.get(f"/api/conversations/{conversation.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["conversation"]["id"] == str(conversation.pk)
    assert len(body["messages"]) == 400
    assert [m["content"] for m in body["messages"][:2]] == ["q0", "a0"]
    assert body["messages"][-1]["content"] == "a199"


@pytest.mark.django_db
def test_listing_takes_the_same_queries_for_one_or_many_matches(
    alice_client, user, make_conversation, add_turns
):
    counts = []
    for size in (1, 30):
        for _ in range(size):
            add_turns(make_conversation(user), [(f"needle {size}", "a")])
        with CaptureQueriesContext(connection) as queries:
            found = alice_client.get(f"/api/conversations/?q=needle {size}").json()
        assert len(found["conversations"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_json_api_enforces_csrf(user, make_conversation):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    conversation = make_conversation(user, title="t")
    url = f"/api/conversations/{conversation.pk}/"
    refused = [
        browser.post("/api/conversations/", {}, content_type=JSON),
        browser.patch(url, {"title": "x"}, content_type=JSON),
        browser.delete(url),
        browser.post(
            "/api/presets/", {"name": "n", "system_prompt": "p"}, content_type=JSON
        ),
    ]
    for response in refused:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "csrf_failed"
    conversation.refresh_from_db()
    assert conversation.title == "t" and conversation.deleted_at is None
    # The page sets the CSRF cookie; sending it back as X-CSRFToken is accepted.
    browser.get("/")
    token = browser.cookies["csrftoken"].value
    accepted = browser.patch(
        url, {"title": "x"}, content_type=JSON, headers={"x-csrftoken": token}
    )
    assert accepted.status_code == 200


@pytest.mark.django_db
def test_wrong_method_is_405_json(alice_client):
    response = alice_client.put("/api/models/", {}, content_type=JSON)
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_models_api_and_page_offer_no_model_that_needs_a_character(alice_client):
    listed = alice_client.get("/api/models/").json()
    codes = [model["code"] for model in listed["models"]]
    assert "glm-4.6" in codes and "charglm-4" not in codes
    # The page's picker list has none either: role-play models come apart, offered
    # only in a conversation with a character (static/chat/settings.js).
    data = alice_client.get("/").context["page_data"]
    assert "glm-4.6" in [model["code"] for model in data["models"]]
    assert "charglm-4" not in [model["code"] for model in data["models"]]
    assert [model["code"] for model in data["roleplay_models"]] == ["charglm-4"]
