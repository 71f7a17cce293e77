"""Two real server processes sharing the database (and Redis): a socket on one
streams and stops a reply started on the other; a killed process's reply is recovered
by the next one; a stopped one (SIGTERM, on Daphne and on uvicorn) saves its reply."""

from __future__ import annotations

import asyncio
import os
import signal

import aiohttp
import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from tests.chat import web_servers
from tests.chat.conftest import send_frame

pytestmark = pytest.mark.django_db(transaction=True)

# The server-level cases run on Daphne and on uvicorn.
web_server = web_servers.web_server
server_processes = web_servers.server_processes


async def open_socket(http, port, conversation_id, cookie):
    origin = f"http://127.0.0.1:{port}"
    ws = await http.ws_connect(
        f"ws://127.0.0.1:{port}/ws/chat/{conversation_id}/",
        headers={"Origin": origin, "Cookie": f"sessionid={cookie}"},
    )
    history = await receive(ws)
    assert history["type"] == "conversation.history"
    return ws, history


async def receive(ws, wait=10.0):
    message = await ws.receive(timeout=wait)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return message.json()


async def receive_until(ws, frame_type, wait=10.0):
    seen = []
    while True:
        frame = await receive(ws, wait)
        seen.append(frame)
        if frame["type"] == frame_type:
            return frame, seen


async def start_slow_reply(ws, text, deltas=10):
    """Send `text` as a 300-token reply at 50 tokens/s; return its message id and its
    first `deltas` reply.delta frames."""
    await ws.send_json(send_frame(f"{text} [[sim:tokens=300,rate=50]]"))
    created, _ = await receive_until(ws, "message.created")
    frames = []
    while len(frames) < deltas:
        frame = await receive(ws)
        if frame["type"] == "reply.delta":
            frames.append(frame)
    return created["assistant"]["id"], frames


def rebuild(frames, snapshot=None):
    """Return the reply text a client holding `snapshot` and `frames` shows."""
    seq = snapshot["seq"] if snapshot else 0
    text = snapshot["content"] if snapshot else ""
    for frame in frames:
        if frame["type"] == "reply.snapshot" and frame["seq"] >= seq:
            seq, text = frame["seq"], frame["content"]
        elif frame["type"] == "reply.delta" and frame["seq"] == seq + 1:
            seq, text = frame["seq"], text + frame["content"]
        # A delta past a gap is skipped, as the page does: a socket that joined
        # mid-reply may get frames before the snapshot that covers them. A frame
        # really lost shows up as text missing from the result.
    return text


@pytest.mark.services
async def test_socket_on_process_b_streams_and_stops_a_reply_started_on_a(
    redis_url, settings, daphne_processes, user, make_conversation, session_cookie
):
    shared = {"REDIS_URL": settings.REDIS_URL or redis_url}
    a = daphne_processes(**shared)
    b = daphne_processes(**shared)
    conversation = await sync_to_async(make_conversation)(user)
    async with aiohttp.ClientSession() as http:
        ws_a, _ = await open_socket(http, a.port, conversation.pk, session_cookie)
        early_b, _ = await open_socket(http, b.port, conversation.pk, session_cookie)
        await ws_a.send_json(send_frame("Across processes [[sim:tokens=300,rate=50]]"))
        created, _ = await receive_until(ws_a, "message.created")
        reply_id = created["assistant"]["id"]
        # B's socket, open before the send, hears of the reply and its frames.
        created_b, early_frames = await receive_until(early_b, "message.created")
        assert created_b["assistant"]["id"] == reply_id
        first_b, seen = await receive_until(early_b, "reply.delta")
        early_frames += seen
        assert first_b["message_id"] == reply_id

        await asyncio.sleep(0.5)
        late_b, history = await open_socket(
            http, b.port, conversation.pk, session_cookie
        )
        assert [m["status"] for m in history["messages"]] == ["complete", "streaming"]
        snapshot, late_frames = await receive_until(late_b, "reply.snapshot")
        assert snapshot["message_id"] == reply_id
        more, seen = await receive_until(late_b, "reply.delta")
        late_frames += seen
        assert more["message_id"] == reply_id

        await late_b.send_json({"type": "reply.stop", "message_id": reply_id})
        end_late, seen = await receive_until(late_b, "reply.end")
        late_frames += seen
        end_early, seen = await receive_until(early_b, "reply.end")
        early_frames += seen
        end_a, a_frames = await receive_until(ws_a, "reply.end")
        for end in (end_late, end_early, end_a):
            assert end["message"]["id"] == reply_id
            assert end["message"]["status"] == "stopped"
        final = end_a["message"]["content"]
        assert 0 < end_a["message"]["content"].count("GLM") < 300
        assert rebuild(a_frames) == final
        assert rebuild(early_frames) == final
        assert rebuild(late_frames) == final
        # The late socket got an exact snapshot from A, not only the checkpoint.
        snapshots = [f for f in late_frames if f["type"] == "reply.snapshot"]
        assert max(f["seq"] for f in snapshots) > 0
        saved = await Message.objects.aget(pk=reply_id)
        assert (saved.status, saved.content) == ("stopped", final)
        for ws in (ws_a, early_b, late_b):
            await ws.close()


async def test_reply_of_a_killed_process_is_recovered_with_its_checkpoint(
    settings, daphne_processes, user, make_conversation, session_cookie
):
    fast = {
        "GLMWEB_REPLY_CHECKPOINT_SECONDS": "0.2",
        "GLMWEB_REPLY_STALE_SECONDS": "1",
    }
    doomed = daphne_processes(**fast)
    conversation = await sync_to_async(make_conversation)(user)
    async with aiohttp.ClientSession() as http:
        ws, _ = await open_socket(http, doomed.port, conversation.pk, session_cookie)
        reply_id, frames = await start_slow_reply(ws, "Crash me")
        await asyncio.sleep(0.5)  # a checkpoint or two
        os.kill(doomed.process.pid, signal.SIGKILL)
        doomed.process.wait()
        await ws.close()

        saved = await Message.objects.aget(pk=reply_id)
        assert saved.status == "streaming"  # nothing could mark it: it was killed

        await asyncio.sleep(1.2)  # its heartbeat goes stale (Redis: the key expires)
        restarted = daphne_processes(**fast)
        ws2, history = await open_socket(
            http, restarted.port, conversation.pk, session_cookie
        )
        reply = history["messages"][-1]
        if reply["status"] == "streaming":
            end, _ = await receive_until(ws2, "reply.end")
            reply = end["message"]
        assert reply["id"] == reply_id
        assert reply["status"] == "interrupted"
        assert reply["error"]["code"] == "server_restarted"
        streamed = "".join(f["content"] for f in frames)
        assert reply["content"].startswith(streamed[:20])
        assert len(reply["content"]) >= len(streamed) // 2
        await ws2.close()


async def test_a_server_told_to_stop_saves_its_running_reply_with_all_its_text(
    server_processes, user, make_conversation, session_cookie
):
    # No checkpoint would fall in this reply's life: what is saved can only come from
    # the shutdown itself.
    server = server_processes(GLMWEB_REPLY_CHECKPOINT_SECONDS="600")
    conversation = await sync_to_async(make_conversation)(user)
    async with aiohttp.ClientSession() as http:
        ws, _ = await open_socket(http, server.port, conversation.pk, session_cookie)
        reply_id, frames = await start_slow_reply(ws, "Stop the server")
        server.process.send_signal(signal.SIGTERM)
        while True:  # what the socket gets before the server closes it
            message = await ws.receive(timeout=15)
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frames.append(message.json())
        assert server.process.wait(timeout=15) == 0

    saved = await Message.objects.aget(pk=reply_id)
    assert saved.status == "interrupted"
    assert saved.error_code == "server_restarted"
    streamed = rebuild(frames)
    assert len(streamed) > 0 and saved.content.startswith(streamed)
    assert 0 < saved.content.count("GLM") < 300  # cut short, not finished
    # The socket heard the ending before the server closed it.
    assert frames[-1]["type"] == "reply.end"
    assert frames[-1]["message"]["status"] == "interrupted"
    assert frames[-1]["message"]["content"] == saved.content
