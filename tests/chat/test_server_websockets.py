"""The chat socket's limits on a real server (`python -m glmweb.serve`), the same on
Daphne and on uvicorn: a message over 1 MiB closes the socket before the app sees
it; a frame under it reaches the app."""

from __future__ import annotations

import aiohttp
import pytest
from asgiref.sync import sync_to_async

from tests.chat import web_servers

pytestmark = pytest.mark.django_db(transaction=True)

web_server = web_servers.web_server
server_processes = web_servers.server_processes


async def test_a_message_over_1_mib_closes_the_socket_and_a_smaller_one_is_read(
    server_processes, user, make_conversation, session_cookie
):
    server = server_processes()
    conversation = await sync_to_async(make_conversation)(user)
    url = f"ws://127.0.0.1:{server.port}/ws/chat/{conversation.pk}/"
    headers = {
        "Origin": f"http://127.0.0.1:{server.port}",
        "Cookie": f"sessionid={session_cookie}",
    }
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url, headers=headers)
        assert (await ws.receive_json(timeout=10))["type"] == "conversation.history"
        # Not a valid frame (no type): the app answers it with an error frame.
        await ws.send_str('{"pad": "' + "x" * (512 * 1024) + '"}')
        answer = await ws.receive_json(timeout=10)
        assert answer["type"] == "error"

        await ws.send_str('{"pad": "' + "x" * (1024 * 1024) + '"}')
        closed = await ws.receive(timeout=10)
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        # uvicorn says why (1009, message too big); autobahn (Daphne) drops the
        # connection after its close frame, which aiohttp reports as 1006.
        assert ws.close_code in (1009, 1006)
        await ws.close()
