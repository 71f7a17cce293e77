"""Who may open a conversation's socket, and how bad client frames are refused."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from chat import routing
from chat.consumers import scope_language
from chat.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


async def assert_closed_4403(user, path):
    communicator = WebsocketCommunicator(URLRouter(routing.websocket_urlpatterns), path)
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected  # accepted, then closed: the browser sees the code
    assert await communicator.receive_output(2) == {
        "type": "websocket.close",
        "code": 4403,
    }
    await communicator.disconnect()


async def test_anonymous_socket_is_closed_4403(reply_engine, user, make_conversation):
    conversation = await sync_to_async(make_conversation)(user)
    await assert_closed_4403(AnonymousUser(), f"/ws/chat/{conversation.pk}/")


async def test_another_users_conversation_is_closed_4403(
    reply_engine, user, other_user, make_conversation
):
    conversation = await sync_to_async(make_conversation)(user)
    await assert_closed_4403(other_user, f"/ws/chat/{conversation.pk}/")


# Fixed ids: xdist workers collect separately and must name every test alike.
@pytest.mark.parametrize(
    "conversation_id",
    [str(uuid.uuid4()), "not-a-uuid", "1"],
    ids=["random-uuid", "not-a-uuid", "1"],
)
async def test_missing_conversation_is_closed_4403(reply_engine, user, conversation_id):
    await assert_closed_4403(user, f"/ws/chat/{conversation_id}/")


async def test_deleted_conversation_is_closed_4403(
    reply_engine, user, make_conversation
):
    conversation = await sync_to_async(make_conversation)(
        user, deleted_at=timezone.now()
    )
    await assert_closed_4403(user, f"/ws/chat/{conversation.pk}/")


BAD_FRAMES = [
    ("not json", "invalid_json"),
    ("[1, 2]", "invalid_json"),
    ('{"text": "no type"}', "unknown_type"),
    ('{"type": "message.delete"}', "unknown_type"),
    ('{"type": "message.send", "client_id": "nope", "text": "hi"}', "invalid"),
    ('{"type": "message.send", "text": "hi"}', "invalid"),
    ('{"type": "message.send", "client_id": "%s", "text": 5}', "invalid"),
    ('{"type": "message.send", "client_id": "%s", "text": "  \\n "}', "empty_text"),
    ('{"type": "message.send", "client_id": "%s", "text": "%s"}', "text_too_long"),
    (
        '{"type": "message.send", "client_id": "%s", "text": "hi",'
        ' "options": {"model": "gpt-4"}}',
        "invalid",
    ),
    (
        '{"type": "message.send", "client_id": "%s", "text": "hi",'
        ' "options": {"temperature": 1.5}}',
        "invalid",
    ),
    (
        '{"type": "message.send", "client_id": "%s", "text": "hi",'
        ' "options": {"top_p": 0}}',
        "invalid",
    ),
    (
        '{"type": "message.send", "client_id": "%s", "text": "hi",'
        ' "options": {"max_tokens": true}}',
        "invalid",
    ),
    (
        '{"type": "message.send", "client_id": "%s", "text": "hi",'
        ' "options": {"colour": "red"}}',
        "invalid",
    ),
    ('{"type": "reply.stop", "message_id": "x"}', "invalid"),
    ('{"type": "reply.regenerate"}', "invalid"),
    (
        '{"type": "message.edit", "message_id": 99999999, "client_id": "%s",'
        ' "text": "x"}',
        "not_found",
    ),
    ('{"type": "reply.regenerate", "client_id": "%s"}', "not_found"),
]


@pytest.mark.parametrize(("raw", "code"), BAD_FRAMES)
async def test_bad_frame_is_refused_without_closing_the_socket(
    raw, code, glm_settings, ws_connect, user, make_conversation
):
    glm_settings.GLMWEB_MAX_MESSAGE_CHARS = 50
    conversation = await sync_to_async(make_conversation)(user)
    ws = await ws_connect(user, conversation.pk, language="zh-CN")
    await ws.receive_json_from()
    if raw.count("%s") == 2:
        raw = raw % (uuid.uuid4(), "x" * 51)
    elif "%s" in raw:
        raw = raw % uuid.uuid4()
    await ws.send_to(text_data=raw)
    refused = await ws.receive_json_from()
    assert refused["type"] == "error"
    assert refused["code"] == code
    assert refused["message"]  # in Chinese: no ASCII letters except a field name
    assert not any(
        c.isascii() and c.isalpha() for c in refused["message"].split("：")[0]
    )
    assert not await Message.objects.filter(conversation=conversation).aexists()
    # The socket still works.
    await ws.send_to(text_data='{"type": "reply.stop"}')
    assert await ws.receive_nothing(0.2)


async def test_refusal_is_in_english_for_an_english_socket(
    ws_connect, user, make_conversation
):
    conversation = await sync_to_async(make_conversation)(user)
    ws = await ws_connect(user, conversation.pk, language="en")
    await ws.receive_json_from()
    await ws.send_to(text_data='{"type": "message.send", "text": "hi"}')
    refused = await ws.receive_json_from()
    assert refused == {
        "type": "error",
        "code": "invalid",
        "message": "The request has an invalid value: client_id.",
    }


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"cookies": {"django_language": "en"}, "headers": []}, "en"),
        (
            {
                "cookies": {"django_language": "zh-hans"},
                "headers": [(b"accept-language", b"en")],
            },
            "zh-hans",
        ),
        ({"headers": [(b"accept-language", b"fr-FR,en;q=0.8")]}, "en"),
        ({"headers": [(b"accept-language", b"zh-CN,zh;q=0.9")]}, "zh-hans"),
        ({"headers": []}, "zh-hans"),
    ],
)
def test_scope_language_prefers_cookie_then_header_then_default(
    scope, expected, settings
):
    settings.LANGUAGE_CODE = "zh-hans"
    assert scope_language(scope) == expected
