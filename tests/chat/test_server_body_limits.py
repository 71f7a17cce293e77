"""Request bodies against a real server (`python -m glmweb.serve`, Daphne and uvicorn):
a body over its limit is answered 413 before it is read, in the user's language; a
large form is not parsed on the event loop, so the streams running meanwhile keep
flowing and the server's memory stays where it was."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid

import aiohttp
import pytest
from asgiref.sync import sync_to_async

from tests.chat import web_servers

pytestmark = pytest.mark.django_db(transaction=True)

# The server-level cases run on Daphne and on uvicorn.
web_server = web_servers.web_server
server_processes = web_servers.server_processes

MB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def post_head(port: int, path: str, headers: dict[str, str]) -> socket.socket:
    """Open a connection and send a POST's request line and headers only."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def read_response(sock: socket.socket) -> bytes:
    """Read one response: its head, then as much body as its Content-Length says."""
    data = b""
    while True:
        head, _, body = data.partition(b"\r\n\r\n")
        if _:
            lengths = [
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ]
            if len(body) >= (lengths[0] if lengths else 0):
                return data
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_a_declared_huge_multipart_is_refused_before_its_body(server_processes):
    server = server_processes()
    sock = post_head(
        server.port,
        "/accounts/login/",
        {
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(100 * MB),
            "Accept-Language": "en",
        },
    )
    started = time.monotonic()
    response = read_response(sock)  # not one byte of the body was sent
    sock.close()

    assert time.monotonic() - started < 2
    assert response.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in response.lower()  # header case: the server's
    assert b"too large (more than 25 MB)" in response


def test_the_413_speaks_the_users_language(server_processes):
    server = server_processes()
    sock = post_head(
        server.port,
        "/api/conversations/",
        {
            "Content-Type": "application/json",
            "Content-Length": str(2 * MB),
            "Accept-Language": "zh-CN,zh;q=0.9",
        },
    )
    response = read_response(sock)
    sock.close()

    assert response.startswith(b"HTTP/1.1 413 ")
    assert "请求过大" in response.decode()


def test_a_chunked_body_is_cut_off_as_it_passes_the_limit(server_processes):
    server = server_processes(GLMWEB_MAX_JSON_BODY_BYTES="100000")
    sock = post_head(
        server.port,
        "/api/conversations/",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    piece = b"x" * 30_000
    answered = b""
    sock.settimeout(0.2)
    for _ in range(100):  # 3 MB if nobody stopped us
        try:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            answered += sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if answered:
            break
    sock.close()

    assert answered.startswith(b"HTTP/1.1 413 ")


def test_a_small_json_body_still_reaches_the_app(server_processes, session_cookie):
    server = server_processes()
    sock = post_head(
        server.port,
        "/api/conversations/",
        {"Content-Type": "application/json", "Content-Length": "2"},
    )
    sock.sendall(b"{}")
    response = read_response(sock)
    sock.close()

    assert not response.startswith(b"HTTP/1.1 413")


async def test_a_100mb_post_neither_stalls_streams_nor_grows_the_server(
    server_processes, user, make_conversation, session_cookie
):
    server = server_processes()
    conversation = await sync_to_async(make_conversation)(user)
    port = server.port
    big = {"status": b""}

    def send_big(length: int) -> None:
        """POST a well-formed multipart body of `length` bytes (one file part)."""
        head = (
            b'--x\r\nContent-Disposition: form-data; name="f"; filename="a.bin"'
            b"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        tail = b"\r\n--x--\r\n"
        sock = post_head(
            port,
            "/accounts/login/",
            {
                "Content-Type": "multipart/form-data; boundary=x",
                "Content-Length": str(length),
            },
        )
        try:
            sock.sendall(head)
            left = length - len(head) - len(tail)
            block = b"a" * MB
            while left > 0:
                sock.sendall(block[:left])
                left -= min(left, MB)
            sock.sendall(tail)
        except OSError:  # refused and closed under us: expected for the big one
            pass
        sock.settimeout(10)
        try:
            big["status"] = sock.recv(64)
        except OSError:
            pass
        sock.close()

    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            f"ws://127.0.0.1:{port}/ws/chat/{conversation.pk}/",
            headers={
                "Origin": f"http://127.0.0.1:{port}",
                "Cookie": f"sessionid={session_cookie}",
            },
        )
        assert (await ws.receive_json(timeout=10))["type"] == "conversation.history"
        await ws.send_json(
            {
                "type": "message.send",
                "client_id": str(uuid.uuid4()),
                "text": "Keep streaming [[sim:tokens=400,rate=50]]",
            }
        )
        while (await ws.receive_json(timeout=10))["type"] != "reply.delta":
            pass
        rss_before = rss_bytes(server.process.pid)
        statuses = []

        # 100 MB declared and sent (refused), then 20 MB, under the limit, that
        # the server must keep (on disk) and hand to Django without parsing it.
        for length in (100 * MB, 20 * MB):
            big["status"] = b""
            sender = threading.Thread(target=send_big, args=(length,))
            sender.start()
            gaps, last = [], time.monotonic()
            while sender.is_alive():
                frame = await ws.receive_json(timeout=10)
                now = time.monotonic()
                gaps.append(now - last)
                last = now
                if frame["type"] == "reply.end":
                    break
                await asyncio.sleep(0)
            await asyncio.to_thread(sender.join, 30)
            assert max(gaps) < 2.0, f"a stream stalled {max(gaps):.2f} s"
            statuses.append(big["status"][:12])
        rss_after = rss_bytes(server.process.pid)
        await ws.send_json({"type": "reply.stop"})
        await ws.close()

    assert rss_after - rss_before < 60 * MB
    # Refused; then let through to Django (no CSRF cookie: 403 without parsing).
    assert statuses == [b"HTTP/1.1 413", b"HTTP/1.1 403"]
