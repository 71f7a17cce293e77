"""A chat socket lives only as long as its session: log-out, a password change in
another browser, deactivation or a session gone by any other way close it (4401), and
a frame is acted on only while the session still signs the user in. Sockets go through
the whole ASGI stack (cookie, session and auth middleware) with the real session
store."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from chat.models import Message
from glmweb.asgi import application
from tests.chat.conftest import send_frame

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-12345-long"


async def signed_in_client(user) -> Client:
    client = Client()
    assert await sync_to_async(client.login)(username=user.username, password=PASSWORD)
    return client


async def open_socket(client: Client, conversation_id) -> WebsocketCommunicator:
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    communicator = WebsocketCommunicator(
        application,
        f"/ws/chat/{conversation_id}/",
        headers=[
            (b"host", b"testserver"),
            (b"origin", b"http://testserver"),
            (b"cookie", cookie.encode()),
            (b"accept-language", b"en"),
        ],
    )
    connected, _ = await communicator.connect()
    assert connected
    history = await communicator.receive_json_from(5)
    assert history["type"] == "conversation.history"
    return communicator


async def assert_closed_4401(communicator: WebsocketCommunicator) -> None:
    assert await communicator.receive_output(5) == {
        "type": "websocket.close",
        "code": 4401,
    }


def delete_session_row_raw(session_key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Session._meta.db_table} WHERE session_key = %s",
            [session_key],
        )


@pytest.fixture
def conversation(user, make_conversation):
    return make_conversation(user)


async def test_logout_closes_the_sessions_socket_and_not_another_sessions(
    reply_engine, glm_settings, user, conversation
):
    here, there = await signed_in_client(user), await signed_in_client(user)
    mine = await open_socket(here, conversation.pk)
    other = await open_socket(there, conversation.pk)

    await sync_to_async(here.post)("/accounts/logout/")

    await assert_closed_4401(mine)
    assert await other.receive_nothing(0.3)
    await other.send_json_to(send_frame("Still signed in there [[sim:tokens=3]]"))
    assert (await other.receive_json_from(5))["type"] == "message.created"
    await mine.disconnect()
    await other.disconnect()


async def test_a_logged_out_socket_gets_no_more_frames_of_a_running_reply(
    reply_engine, glm_settings, user, conversation
):
    here, there = await signed_in_client(user), await signed_in_client(user)
    mine = await open_socket(here, conversation.pk)
    other = await open_socket(there, conversation.pk)
    await other.send_json_to(send_frame("Long one [[sim:tokens=200,rate=40]]"))
    assert (await mine.receive_json_from(5))["type"] == "message.created"

    await sync_to_async(here.post)("/accounts/logout/")

    while True:  # deltas already on their way, then the close, then nothing
        output = await mine.receive_output(5)
        if output["type"] == "websocket.close":
            assert output["code"] == 4401
            break
    assert await mine.receive_nothing(0.5)
    await other.send_json_to({"type": "reply.stop"})
    await mine.disconnect()
    await other.disconnect()


async def test_password_changed_in_another_browser_closes_the_socket(
    reply_engine, glm_settings, user, conversation
):
    old, new = await signed_in_client(user), await signed_in_client(user)
    socket = await open_socket(old, conversation.pk)

    response = await sync_to_async(new.post)(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-pw-9876",
            "new_password2": "another-pw-9876",
        },
    )
    assert response.status_code == 302

    await assert_closed_4401(socket)
    await socket.disconnect()


async def test_deactivation_closes_the_users_sockets(
    reply_engine, glm_settings, user, conversation
):
    socket = await open_socket(await signed_in_client(user), conversation.pk)

    user.is_active = False
    await sync_to_async(user.save)()

    await assert_closed_4401(socket)
    await socket.disconnect()


async def test_a_frame_on_a_deleted_session_is_not_acted_on(
    reply_engine, glm_settings, user, conversation
):
    client = await signed_in_client(user)
    socket = await open_socket(client, conversation.pk)
    # An admin clearing sessions: no log-out, no user change; only the row's
    # deletion tells the socket, which acts on frames without reading the session.
    await sync_to_async(
        Session.objects.filter(session_key=client.cookies["sessionid"].value).delete
    )()

    await socket.send_json_to(send_frame("Must not be saved"))

    await assert_closed_4401(socket)
    assert not await Message.objects.filter(conversation=conversation).aexists()
    await socket.disconnect()


async def test_an_expired_session_closes_the_socket_within_the_check_interval(
    reply_engine, glm_settings, settings, user, conversation
):
    settings.GLMWEB_SOCKET_SESSION_CHECK_SECONDS = 0.2
    client = await signed_in_client(user)
    socket = await open_socket(client, conversation.pk)
    # Gone with no signal at all (raw SQL, as an expiry that nobody deletes looks
    # to the sockets): only the periodic check can notice.
    await sync_to_async(delete_session_row_raw)(client.cookies["sessionid"].value)

    await assert_closed_4401(socket)
    await socket.disconnect()


async def test_deactivation_closes_a_socket_on_another_server_process(
    redis_url, settings, daphne_processes, user, conversation, session_cookie
):
    """The signal fires in this process (no socket here): it reaches the Daphne
    process holding the socket through Redis (relay Kind.SESSIONS)."""
    import aiohttp

    settings.REDIS_URL = settings.REDIS_URL or redis_url
    server = await sync_to_async(daphne_processes)(REDIS_URL=settings.REDIS_URL)
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            f"ws://127.0.0.1:{server.port}/ws/chat/{conversation.pk}/",
            headers={
                "Origin": f"http://127.0.0.1:{server.port}",
                "Cookie": f"sessionid={session_cookie}",
            },
        )
        assert (await ws.receive_json(timeout=10))["type"] == "conversation.history"

        user.is_active = False
        await sync_to_async(user.save)()

        message = await ws.receive(timeout=10)
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert message.data == 4401


async def test_a_reply_streams_whole_through_the_whole_asgi_stack(
    reply_engine, glm_settings, user, conversation
):
    # Reply frames take the server's own send (glmweb/server_send.py), the handshake
    # and close Channels' middleware: both must reach the same socket, in order.
    socket = await open_socket(await signed_in_client(user), conversation.pk)
    await socket.send_json_to(send_frame("Tell me [[sim:tokens=40,rate=400]]"))
    seqs, text = [], []
    while True:
        frame = await socket.receive_json_from(5)
        if frame["type"] == "reply.delta":
            seqs.append(frame["seq"])
            text.append(frame["content"])
        elif frame["type"] == "reply.end":
            break
    assert seqs == list(range(1, len(seqs) + 1))
    saved = await Message.objects.aget(pk=frame["message"]["id"])
    assert saved.content and "".join(text) == saved.content
    await socket.disconnect()
