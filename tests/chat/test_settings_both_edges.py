"""One rule for a conversation's settings: the websocket and the HTTP API agree.

Every row goes through both doors, each time on a fresh conversation in the same
state: the websocket's message.send (frames.parse, then the turn that saves it) and
the HTTP PATCH. Both must accept it and store the same values, or both refuse it on
the same field and save nothing.
"""

from __future__ import annotations

import json
import uuid

import pytest
from asgiref.sync import sync_to_async

from chat import conversation_settings, frames, turns
from chat.models import Conversation, Message

JSON = "application/json"
PROMPT_LIMIT = 8000  # GLMWEB_MAX_SYSTEM_PROMPT_CHARS
LONGEST = "x" * PROMPT_LIMIT

# (the conversation's model and flags before, the options sent, the outcome): a dict
# of the values then stored, or the name of the refused field.
TABLE = [
    # Model codes: matched case-insensitively, stored as the catalog spells them.
    ({}, {"model": "GLM-4.6"}, {"model": "glm-4.6"}),
    ({}, {"model": "gpt-4"}, "model"),
    ({}, {"model": None}, "model"),
    ({}, {"model": ""}, "model"),
    ({}, {"model": 5}, "model"),
    # Role-play models need a character: not offered for plain chat.
    ({}, {"model": "charglm-4"}, "model"),
    ({}, {"model": "CharGLM-4"}, "model"),
    # The system prompt: stripped, null is none, a string up to the limit.
    ({}, {"system_prompt": "  Be brief.\n"}, {"system_prompt": "Be brief."}),
    ({}, {"system_prompt": "   "}, {"system_prompt": ""}),
    ({}, {"system_prompt": None}, {"system_prompt": ""}),
    ({}, {"system_prompt": f" {LONGEST} "}, {"system_prompt": LONGEST}),
    ({}, {"system_prompt": "x" * (PROMPT_LIMIT + 1)}, "system_prompt"),
    ({}, {"system_prompt": 5}, "system_prompt"),
    ({}, {"system_prompt": "a\x00b"}, "system_prompt"),
    # Sampling: JSON numbers in the platform's ranges, null for its default.
    ({}, {"temperature": 0}, {"temperature": 0.0}),
    ({}, {"temperature": 1}, {"temperature": 1.0}),
    ({}, {"temperature": None}, {"temperature": None}),
    ({}, {"temperature": 1.5}, "temperature"),
    ({}, {"temperature": -0.1}, "temperature"),
    ({}, {"temperature": "0.5"}, "temperature"),
    ({}, {"temperature": True}, "temperature"),
    ({}, {"top_p": 1}, {"top_p": 1.0}),
    ({}, {"top_p": 0.01}, {"top_p": 0.01}),
    ({}, {"top_p": 0}, "top_p"),
    ({}, {"top_p": 1.01}, "top_p"),
    ({}, {"top_p": "1"}, "top_p"),
    # max_tokens: a whole number up to the max_output of the model it will have.
    ({}, {"max_tokens": 4095}, {"max_tokens": 4095}),
    ({}, {"max_tokens": None}, {"max_tokens": None}),
    ({}, {"max_tokens": 4096}, "max_tokens"),
    ({"model": "glm-4.6"}, {"max_tokens": 64000}, {"max_tokens": 64000}),
    ({}, {"model": "glm-4.6", "max_tokens": 128000}, {"max_tokens": 128000}),
    ({"model": "glm-4.6"}, {"model": "glm-4v-flash", "max_tokens": 2000}, "max_tokens"),
    ({}, {"max_tokens": 0}, "max_tokens"),
    ({}, {"max_tokens": 1.5}, "max_tokens"),
    ({}, {"max_tokens": True}, "max_tokens"),
    ({}, {"max_tokens": "100"}, "max_tokens"),
    # Flags: true only for a model that has them; a model change turns them off.
    ({}, {"web_search": True}, {"web_search": True}),
    ({}, {"thinking": False}, {"thinking": False}),
    ({}, {"thinking": True}, "thinking"),
    ({}, {"model": "glm-4-flash", "thinking": True}, "thinking"),
    ({"model": "glm-4v-flash"}, {"web_search": True}, "web_search"),
    ({}, {"web_search": "yes"}, "web_search"),
    (
        {},
        {"model": "glm-4.6", "web_search": True, "thinking": True},
        {"model": "glm-4.6", "web_search": True, "thinking": True},
    ),
    (
        {"model": "glm-4.6", "web_search": True, "thinking": True},
        {"model": "glm-4-flash"},
        {"model": "glm-4-flash", "web_search": True, "thinking": False},
    ),
]  # fmt: skip


def _websocket(conversation: Conversation, options: dict) -> dict | str:
    frame = json.dumps(
        {
            "type": "message.send",
            "client_id": str(uuid.uuid4()),
            "text": "hi",
            "options": options,
        }
    )
    try:
        request = frames.parse(frame)
        turns.send_message(
            str(conversation.pk),
            conversation.owner_id,
            request.client_id,
            request.text,
            request.options,
        )
    except (frames.FrameRefused, turns.TurnRefused) as refused:
        assert refused.code == "invalid"
        assert refused.field.startswith("options.")
        assert not Message.objects.filter(conversation=conversation).exists()
        return refused.field.removeprefix("options.")
    return _stored(conversation)


def _http(client, conversation: Conversation, options: dict) -> dict | str:
    response = client.patch(
        f"/api/conversations/{conversation.pk}/", options, content_type=JSON
    )
    if response.status_code == 400:
        fields = response.json()["error"]["fields"]
        assert len(fields) == 1, fields
        return next(iter(fields))
    assert response.status_code == 200, response.content
    stored = _stored(conversation)
    assert {k: response.json()["conversation"][k] for k in stored} == stored
    return stored


def _stored(conversation: Conversation) -> dict:
    conversation.refresh_from_db()
    return {name: getattr(conversation, name) for name in conversation_settings.FIELDS}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("before", "options", "outcome"),
    TABLE,
    ids=[f"{n}-{'+'.join(options)}" for n, (_, options, _) in enumerate(TABLE)],
)
def test_both_edges_give_the_same_outcome(
    alice_client, user, make_conversation, before, options, outcome
):
    start = {"model": "glm-4-flash", "system_prompt": "old", **before}
    by_socket = make_conversation(user, **start)
    by_http = make_conversation(user, **start)
    unchanged = _stored(by_socket)

    socket_outcome = _websocket(by_socket, options)
    http_outcome = _http(alice_client, by_http, options)

    if isinstance(outcome, str):
        assert (socket_outcome, http_outcome) == (outcome, outcome)
        assert _stored(by_socket) == _stored(by_http) == unchanged
    else:
        assert socket_outcome == http_outcome
        assert {k: socket_outcome[k] for k in outcome} == outcome


# The consumer itself: a rule that needs the conversation's model (checked in the
# turn) and one that does not (checked in the frame) both come back as an error
# frame naming the option, with the rule's own wording in the socket's language.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("language", "options", "message"),
    [
        (
            "en",
            {"max_tokens": 5000},
            "The request has an invalid value: options.max_tokens. "
            "GLM-4-Flash writes at most 4095 tokens per reply.",
        ),
        (
            "zh-CN",
            {"thinking": True},
            "请求中有无效的内容：options.thinking。GLM-4-Flash 不支持深度思考。",
        ),
        (
            "zh-CN",
            {"model": "charglm-4"},
            "请求中有无效的内容：options.model。"
            "CharGLM-4 是角色扮演模型，需要角色设定：请从角色开始对话再使用它，"
            "或换一个模型。",
        ),
        (
            "en",
            {"model": "CharGLM-4"},
            "The request has an invalid value: options.model. CharGLM-4 is a role-play "
            "model: it needs a character. Start a chat from a character to use it, or "
            "choose another model.",
        ),
    ],
    ids=["max_tokens-en", "thinking-zh", "roleplay-zh", "roleplay-en"],
)
async def test_socket_refusal_names_the_option_and_the_rule(
    ws_connect, user, make_conversation, language, options, message
):
    conversation = await sync_to_async(make_conversation)(user, model="glm-4-flash")
    ws = await ws_connect(user, conversation.pk, language=language)
    await ws.receive_json_from()
    client_id = str(uuid.uuid4())
    await ws.send_json_to(
        {
            "type": "message.send",
            "client_id": client_id,
            "text": "hi",
            "options": options,
        }
    )
    assert await ws.receive_json_from() == {
        "type": "error",
        "code": "invalid",
        "message": message,
        "client_id": client_id,
    }
    assert not await Message.objects.filter(conversation=conversation).aexists()
