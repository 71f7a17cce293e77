"""`GLMError.request_sent`: whether a failed request may have reached the platform.

The client sets it itself (transport.request_error), so callers that must not send a
paid request twice (video submissions) never read library exception names. Both faces,
and the async face on both transports, since aiohttp reports a server that hung up
after the request as httpx.ConnectTimeout.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from glmweb import zhipu
from tests.zhipu.test_client_sync import closed_port, received, say


@pytest.fixture(params=["aiohttp", "httpx"])
def glm(request: pytest.FixtureRequest, glm_settings: Any) -> Any:
    glm_settings.ZHIPUAI_ASYNC_TRANSPORT = request.param
    return glm_settings


def test_sync_request_to_a_closed_port_was_never_sent(glm_settings: Any) -> None:
    glm_settings.ZHIPUAI_BASE_URL = f"http://127.0.0.1:{closed_port()}/api/paas/v4/"

    with pytest.raises(zhipu.APIConnectionError) as caught:
        zhipu.chat(say()[0])

    assert caught.value.request_sent is False


def test_sync_request_cut_off_after_it_arrived_was_sent(
    glm_settings: Any, simulator: Any
) -> None:
    messages, tag = say("hello [[sim:hang_up]]")

    with pytest.raises(zhipu.APIConnectionError) as caught:
        zhipu.chat(messages)

    assert caught.value.request_sent is True
    assert len(received(simulator, tag)) == 1


def test_sync_video_submission_cut_off_after_it_arrived_was_sent(
    glm_settings: Any, simulator: Any
) -> None:
    with pytest.raises(zhipu.APIConnectionError) as caught:
        zhipu.submit_video("a fox [[sim:hang_up]]", max_retries=0)

    assert caught.value.request_sent is True


def test_sync_answered_error_was_sent(glm_settings: Any, simulator: Any) -> None:
    with pytest.raises(zhipu.APIRequestFailedError) as caught:
        zhipu.chat(say("[[sim:status=400]]")[0])

    assert caught.value.request_sent is True


async def test_async_request_to_a_closed_port_was_never_sent(glm: Any) -> None:
    glm.ZHIPUAI_BASE_URL = f"http://127.0.0.1:{closed_port()}/api/paas/v4/"

    with pytest.raises(zhipu.APIConnectionError) as caught:
        await zhipu.achat(say()[0])

    assert caught.value.request_sent is False


async def test_async_stream_to_a_closed_port_was_never_sent(glm: Any) -> None:
    glm.ZHIPUAI_BASE_URL = f"http://127.0.0.1:{closed_port()}/api/paas/v4/"

    with pytest.raises(zhipu.APIConnectionError) as caught:
        async for _delta in zhipu.astream_chat(say()[0]):
            pass

    assert caught.value.request_sent is False


async def test_async_request_cut_off_after_it_arrived_was_sent(
    glm: Any, simulator: Any
) -> None:
    messages, tag = say("hello [[sim:hang_up]]")

    with pytest.raises(zhipu.APIConnectionError) as caught:
        await zhipu.achat(messages)

    assert caught.value.request_sent is True
    assert len(received(simulator, tag)) == 1


async def test_async_stream_cut_off_after_it_arrived_was_sent(
    glm: Any, simulator: Any
) -> None:
    with pytest.raises(zhipu.APIConnectionError) as caught:
        async for _delta in zhipu.astream_chat(say("hi [[sim:hang_up]]")[0]):
            pass

    assert caught.value.request_sent is True


@pytest.fixture
def silent_server() -> Any:
    """A server that reads a request, then closes the connection without a status
    line (the simulator, under uvicorn, cannot: it always sends headers first)."""

    def serve(listener: socket.socket) -> None:
        while True:
            try:
                conn, _address = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)

    listener = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=serve, args=(listener,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/paas/v4/"
    listener.close()


async def test_async_request_the_server_hung_up_on_was_sent(
    glm: Any, silent_server: str
) -> None:
    glm.ZHIPUAI_BASE_URL = silent_server

    with pytest.raises(zhipu.APIConnectionError) as caught:
        await zhipu.achat(say()[0])

    assert caught.value.request_sent is True


def test_sync_request_the_server_hung_up_on_was_sent(
    glm_settings: Any, silent_server: str
) -> None:
    glm_settings.ZHIPUAI_BASE_URL = silent_server

    with pytest.raises(zhipu.APIConnectionError) as caught:
        zhipu.chat(say()[0])

    assert caught.value.request_sent is True
