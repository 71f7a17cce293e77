"""Agent conversations (glm-4-assistant) against the running simulator: the Agents
page, starting one, tool calls streamed and saved, the platform's conversation_id kept
across turns, an agent's error shown, stop, resume, and access."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.urls import reverse

from chat.models import Conversation, Message
from tests.chat.conftest import receive_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True)

TRANSLATOR = "9996ijk789lmn012o345p999"
GENERAL = "659e54b1b8006379b4b2abd6"


@pytest.fixture(autouse=True)
def quiet(glm_settings):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    cache.clear()


@pytest.fixture
def assistant_requests(glm_settings, simulator):
    """Empty the simulator's log; return a function listing POST assistant bodies."""
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(f"{simulator.root}/_sim/requests", method="DELETE"),
        timeout=5,
    ).close()

    def calls(suffix: str = "/assistant") -> list[dict]:
        return [e["json"] for e in simulator.requests() if e["path"].endswith(suffix)]

    return calls


@pytest.fixture
def agent_conversation(user, make_conversation):
    return make_conversation(user, model="glm-4-assistant", assistant_id=GENERAL)


def test_the_agents_page_lists_the_platforms_agents_once_per_cache_period(
    alice_client, assistant_requests
):
    page = alice_client.get(reverse("chat:assistants"))
    assert page.status_code == 200
    assert "智谱清言" in page.content.decode() and "翻译助手" in page.content.decode()
    alice_client.get(reverse("chat:assistants"))
    assert len(assistant_requests("/assistant/list")) == 1  # the second was cached


def test_the_agents_page_says_why_when_the_platform_refuses(alice_client, glm_settings):
    glm_settings.ZHIPUAI_API_KEY = "bad-id.bad-secret"
    page = alice_client.get(reverse("chat:assistants"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert 'role="alert"' in page.content.decode()


def test_starting_a_conversation_with_an_agent(alice_client, user):
    response = alice_client.post(reverse("chat:assistant_start", args=[TRANSLATOR]))
    conversation = Conversation.objects.get(owner=user)
    assert response.status_code == 302
    assert response["Location"] == reverse("chat:conversation", args=[conversation.pk])
    assert conversation.assistant_id == TRANSLATOR
    assert conversation.title == "翻译助手"
    assert conversation.assistant_conversation_id == ""
    unknown = alice_client.post(reverse("chat:assistant_start", args=["nope"]))
    assert unknown.status_code == 404
    assert (
        alice_client.get(reverse("chat:assistant_start", args=[GENERAL])).status_code
        == 405
    )


def test_another_users_agent_conversation_is_a_404(
    client, other_user, agent_conversation
):
    client.force_login(other_user)
    url = reverse("chat:conversation", args=[agent_conversation.pk])
    assert client.get(url).status_code == 404


async def test_an_agent_reply_streams_its_tool_call_and_keeps_the_conversation_id(
    ws_connect, user, agent_conversation, assistant_requests
):
    ws = await ws_connect(user, agent_conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Search for cats [[sim:tool=web_browser]]"))
    end, seen = await receive_until(ws, "reply.end", 15)
    tools = [f for f in seen if f["type"] == "reply.tools"]
    assert len(tools) == 1
    call = tools[0]["tool_calls"][0]
    assert call["type"] == "web_browser"
    assert call["input"] == "Search for cats"
    assert call["outputs"][0]["link"] == "https://example.com/simulated"
    message = end["message"]
    assert message["status"] == "complete" and message["content"]
    assert message["tool_calls"] == tools[0]["tool_calls"]
    streamed = "".join(f["content"] for f in seen if f["type"] == "reply.delta")
    assert streamed == message["content"]
    saved = await Message.objects.aget(pk=message["id"])
    assert saved.tool_calls == message["tool_calls"]
    conversation = await Conversation.objects.aget(pk=agent_conversation.pk)
    platform_id = conversation.assistant_conversation_id
    assert platform_id

    await ws.send_json_to(send_frame("And dogs?"))
    second, _ = await receive_until(ws, "reply.end", 15)
    assert second["message"]["status"] == "complete"
    first_call, second_call = assistant_requests()
    assert "conversation_id" not in first_call
    assert first_call["assistant_id"] == GENERAL
    # Only the new text goes: the platform keeps the agent's memory.
    assert second_call["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "And dogs?"}]}
    ]
    assert second_call["conversation_id"] == platform_id


async def test_an_agent_failing_mid_reply_is_shown_as_an_error_with_the_text_kept(
    ws_connect, user, agent_conversation
):
    ws = await ws_connect(user, agent_conversation.pk, language="zh-hans")
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Fail please [[sim:error_event=2,code=1234]]"))
    end, seen = await receive_until(ws, "reply.end", 15)
    message = end["message"]
    assert message["status"] == "interrupted"
    assert message["content"]  # the two chunks before the failure are kept
    assert message["error"]["code"]
    assert message["error"]["message"]
    assert "simulated agent failure" in message["error"]["detail"]
    saved = await Message.objects.aget(pk=message["id"])
    assert saved.error_code == message["error"]["code"]


async def test_a_content_filtered_agent_reply_says_so(
    ws_connect, user, agent_conversation
):
    ws = await ws_connect(user, agent_conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Something [[sim:sensitive]]"))
    end, _ = await receive_until(ws, "reply.end", 15)
    message = end["message"]
    assert message["finish_reason"] == "sensitive"
    assert message["error"]["code"] == "content_blocked"


async def test_stopping_an_agent_reply_keeps_its_text_and_tool_calls(
    ws_connect, user, agent_conversation
):
    ws = await ws_connect(user, agent_conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(
        send_frame("Run code slowly [[sim:tool=code_interpreter,rate=4]]")
    )
    await receive_until(ws, "reply.tools")
    await receive_until(ws, "reply.delta")
    # A socket that opens now gets the reply so far, tool calls included.
    other = await ws_connect(user, agent_conversation.pk)
    history = await other.receive_json_from()
    assert history["streaming"]["tool_calls"][0]["type"] == "code_interpreter"
    await ws.send_json_to({"type": "reply.stop"})
    end, _ = await receive_until(ws, "reply.end", 5)
    message = end["message"]
    assert message["status"] == "stopped"
    assert message["content"]
    assert message["tool_calls"][0]["outputs"][0]["logs"] == "42\n"
    await asyncio.sleep(0)
    saved = await sync_to_async(Message.objects.get)(pk=message["id"])
    assert saved.status == "stopped" and saved.tool_calls == message["tool_calls"]


async def test_continue_is_refused_in_an_agent_conversation(
    ws_connect, user, agent_conversation, assistant_requests
):
    ws = await ws_connect(user, agent_conversation.pk)
    await ws.receive_json_from()
    await ws.send_json_to(send_frame("Cut me [[sim:finish=length]]"))
    end, _ = await receive_until(ws, "reply.end", 15)
    assert end["message"]["finish_reason"] == "length"
    await ws.send_json_to(
        {
            "type": "reply.continue",
            "client_id": str(uuid.uuid4()),
            "message_id": end["message"]["id"],
        }
    )
    refused, _ = await receive_until(ws, "error")
    assert refused["code"] == "not_found"
    assert len(assistant_requests()) == 1
