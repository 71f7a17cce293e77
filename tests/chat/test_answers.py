"""Answers over the websocket against the running simulator: how a reply ended
(finish_reason, Continue), versions (reply.select), web-search sources with their
citation markers, reasoning tokens, and thinking on by default."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from chat.replies.runner import CONTINUE_PROMPT
from tests.chat.conftest import receive_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True)


async def reply(ws, wait=15.0):
    end, seen = await receive_until(ws, "reply.end", wait)
    text = "".join(f["content"] for f in seen if f["type"] == "reply.delta")
    return end["message"], text


@pytest.fixture(autouse=True)
def no_titles(glm_settings):
    # No conversation.updated from automatic titling between the frames read here.
    glm_settings.GLMWEB_AUTO_TITLE = "off"


@pytest.fixture
def conversation(user, make_conversation):
    return make_conversation(user)


async def test_a_length_cut_answer_says_so_and_continues_into_one_message(
    glm_settings, ws_connect, user, conversation, chat_requests
):
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Tell me a long story", options={"max_tokens": 4}))
    cut, _text = await reply(ws)
    assert cut["status"] == "complete"
    assert cut["finish_reason"] == "length"
    assert cut["error"] is None

    await ws.send_json_to(
        {
            "type": "reply.continue",
            "client_id": str(uuid.uuid4()),
            "message_id": cut["id"],
        }
    )
    created, _ = await receive_until(ws, "message.created")
    assert created["user"] is None
    assert created["assistant"]["id"] == cut["id"]
    assert created["assistant"]["status"] == "streaming"
    assert created["assistant"]["content"] == cut["content"]
    whole, appended = await reply(ws)
    assert whole["id"] == cut["id"]
    assert whole["content"] == cut["content"] + appended and appended
    assert whole["finish_reason"] == "length"  # max_tokens still applies to each call
    # Two calls' completion tokens, one message.
    assert whole["usage"]["completion_tokens"] == 8

    sent = chat_requests()[-1]["messages"]
    assert sent[-2] == {"role": "assistant", "content": cut["content"]}
    assert sent[-1] == {"role": "user", "content": CONTINUE_PROMPT}
    answers = await sync_to_async(list)(
        Message.objects.filter(conversation=conversation, role="assistant").values_list(
            "content", "status", "superseded"
        )
    )
    assert answers == [(whole["content"], "complete", False)]


async def test_continue_is_refused_for_anything_but_the_last_answer(
    glm_settings, ws_connect, user, conversation
):
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Hello"))
    created, _ = await receive_until(ws, "message.created")
    await reply(ws)
    for message_id in (created["user"]["id"], created["assistant"]["id"] + 100):
        await ws.send_json_to(
            {
                "type": "reply.continue",
                "client_id": str(uuid.uuid4()),
                "message_id": message_id,
            }
        )
        refused, _ = await receive_until(ws, "error")
        assert refused["code"] == "not_found"


@pytest.mark.parametrize(
    ("finish", "status", "code", "retryable"),
    [
        ("tool_calls", "complete", None, None),
        ("model_context_window_exceeded", "complete", None, None),
        ("network_error", "interrupted", "network_error", True),
        ("sensitive", "interrupted", "content_blocked", False),
    ],
)
async def test_each_ending_is_saved_and_said(
    glm_settings, ws_connect, user, conversation, finish, status, code, retryable
):
    ws = await ws_connect(user, conversation.pk, language="en")
    await ws.receive_json_from()
    await ws.send_json_to(send_frame(f"Hi [[sim:finish={finish}]]"))
    message, _ = await reply(ws)
    assert message["finish_reason"] == finish
    assert message["status"] == status
    if code is None:
        assert message["error"] is None
    else:
        assert message["error"]["code"] == code
        assert message["error"]["retryable"] is retryable
        assert message["error"]["message"]
    if finish == "network_error":
        assert "lost its connection to the model" in message["error"]["message"]


async def test_versions_flip_and_the_next_message_continues_from_the_chosen_one(
    glm_settings, ws_connect, user, conversation, chat_requests
):
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("First question"))
    first, _ = await reply(ws)
    assert first["versions"] == [first["id"]]
    await ws.send_json_to({"type": "reply.regenerate", "client_id": str(uuid.uuid4())})
    created, _ = await receive_until(ws, "message.created")
    assert created["superseded"] == [first["id"]]
    second, _ = await reply(ws)
    assert second["versions"] == [first["id"], second["id"]]

    other = await ws_connect(user, conversation.pk)
    await other.receive_json_from()
    await ws.send_json_to({"type": "reply.select", "message_id": first["id"]})
    for socket in (ws, other):
        selected, _ = await receive_until(socket, "reply.selected")
        assert selected["message"]["id"] == first["id"]
        assert selected["message"]["versions"] == [first["id"], second["id"]]
        assert selected["superseded"] == [second["id"]]

    again = await ws_connect(user, conversation.pk)
    history = await again.receive_json_from()
    assert [m["id"] for m in history["messages"]][-1] == first["id"]
    assert history["messages"][-1]["versions"] == [first["id"], second["id"]]

    await ws.send_json_to(send_frame("Next"))
    await reply(ws)
    # The simulator answers both versions alike: the context holds one answer, and
    # the chosen version is the visible one.
    sent = chat_requests()[-1]["messages"]
    assert [m["role"] for m in sent if m["role"] != "system"] == [
        "user",
        "assistant",
        "user",
    ]
    shown = await sync_to_async(list)(
        Message.objects.filter(pk__in=[first["id"], second["id"]])
        .order_by("pk")
        .values_list("superseded", flat=True)
    )
    assert shown == [False, True]


async def test_only_the_latest_answers_versions_can_be_chosen(
    glm_settings, ws_connect, user, conversation, make_conversation
):
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("One"))
    old, _ = await reply(ws)
    await ws.send_json_to(send_frame("Two"))
    await reply(ws)
    elsewhere = await sync_to_async(make_conversation)(user)
    stranger = await sync_to_async(Message.objects.create)(
        conversation=elsewhere, role="assistant", content="x"
    )
    for message_id in (old["id"], stranger.pk):
        await ws.send_json_to({"type": "reply.select", "message_id": message_id})
        refused, _ = await receive_until(ws, "error")
        assert refused["code"] == "not_found"


async def test_web_search_sources_carry_their_date_and_the_answer_cites_them(
    glm_settings, ws_connect, user, make_conversation
):
    conversation = await sync_to_async(make_conversation)(
        user, model="glm-4.6", web_search=True
    )
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Rust news"))
    search, _ = await receive_until(ws, "reply.search")
    assert [r["refer"] for r in search["results"]] == ["ref_1", "ref_2", "ref_3"]
    assert search["results"][0]["publish_date"] == "2025-01-01"
    message, _ = await reply(ws)
    assert "[ref_1][ref_2]" in message["content"]
    assert message["web_search"] == search["results"]


async def test_reasoning_is_never_sent_back(
    glm_settings, ws_connect, user, make_conversation, chat_requests
):
    conversation = await sync_to_async(make_conversation)(
        user, model="glm-4.6", thinking=True
    )
    ws = await ws_connect(user, conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Think first"))
    first, _ = await reply(ws)
    assert first["reasoning"]
    assert 0 < first["usage"]["reasoning_tokens"] < first["usage"]["completion_tokens"]
    await ws.send_json_to(send_frame("And then?"))
    await reply(ws)
    sent = chat_requests()[-1]["messages"]
    assert sent[-2] == {"role": "assistant", "content": first["content"]}
    assert all(first["reasoning"] not in str(m) for m in sent)


def test_a_thinking_model_thinks_by_default_unless_told_not_to(
    alice_client, user, make_conversation
):
    def create(**fields):
        response = alice_client.post(
            "/api/conversations/", fields, content_type="application/json"
        )
        assert response.status_code == 201
        return response.json()["conversation"]

    assert create(model="glm-4.6")["thinking"] is True
    assert create(model="glm-4.6", thinking=False)["thinking"] is False
    assert create(model="glm-4-flash")["thinking"] is False
    plain = make_conversation(user)
    switched = alice_client.patch(
        f"/api/conversations/{plain.pk}/",
        {"model": "glm-4.6"},
        content_type="application/json",
    ).json()["conversation"]
    assert switched["thinking"] is True
