"""The websocket's origin check compares scheme, host and port: a page on another
port of the same host cannot open a socket with the user's cookies."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from glmweb.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def handshake(host: str, origin: str | None, cookie: str, path: str) -> object:
    """Return the first thing the server answers a handshake with: the
    conversation.history frame (let in) or the close/denial (refused)."""
    headers = [(b"host", host.encode()), (b"cookie", cookie.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    try:
        if not connected:  # closed before accepting: Daphne answers HTTP 403
            return "refused"
        return (await communicator.receive_json_from(5))["type"]
    finally:
        await communicator.disconnect()


@pytest.fixture
async def socket_path(user, make_conversation):
    conversation = await sync_to_async(make_conversation)(user)
    return f"/ws/chat/{conversation.pk}/"


@pytest.fixture
async def cookie(user):
    client = Client()
    await sync_to_async(client.force_login)(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("localhost:8000", "http://LOCALHOST:8000"),
        ("testserver", "http://testserver"),
        ("testserver", "http://testserver:80"),
    ],
)
async def test_the_sites_own_origin_opens_a_socket(
    reply_engine, socket_path, cookie, host, origin
):
    assert await handshake(host, origin, cookie, socket_path) == (
        "conversation.history"
    )


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:9999"),  # another port, same host
        ("127.0.0.1:8000", "http://localhost:8000"),  # another allowed host name
        ("localhost:8000", "http://localhost:3000"),
        ("127.0.0.1:8000", "https://127.0.0.1:8000"),  # another scheme
        ("testserver", "http://evil.example"),
        ("testserver", "null"),  # sandboxed iframes, file:// pages
        ("testserver", None),
        ("evil.example", "http://evil.example"),  # a host not in ALLOWED_HOSTS
    ],
)
async def test_another_origin_is_refused_at_the_handshake(
    reply_engine, socket_path, cookie, host, origin
):
    assert await handshake(host, origin, cookie, socket_path) == "refused"


async def test_a_trusted_origin_opens_a_socket_on_its_port_only(
    reply_engine, settings, socket_path, cookie
):
    settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.com", "https://*.corp.test"]
    ok = "conversation.history"
    assert (
        await handshake("testserver", "https://chat.example.com", cookie, socket_path)
        == ok
    )
    assert (
        await handshake("testserver", "https://a.corp.test", cookie, socket_path) == ok
    )
    assert (
        await handshake(
            "testserver", "https://chat.example.com:8443", cookie, socket_path
        )
        == "refused"
    )
    assert (
        await handshake("testserver", "http://chat.example.com", cookie, socket_path)
        == "refused"
    )


async def test_behind_a_tls_proxy_the_https_origin_is_the_sites_own(
    reply_engine, settings, socket_path, cookie
):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    communicator = WebsocketCommunicator(
        application,
        socket_path,
        headers=[
            (b"host", b"testserver"),
            (b"cookie", cookie.encode()),
            (b"origin", b"https://testserver"),
            (b"x-forwarded-proto", b"https"),
        ],
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(5))["type"] == "conversation.history"
    await communicator.disconnect()
