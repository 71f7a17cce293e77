"""The glm-4-assistant endpoints: conversation turns (whole and streamed), the
assistant list and the conversation list, shaped like the SDK's response models."""

from __future__ import annotations

import json

import pytest

ASSISTANT_ID = "659e54b1b8006379b4b2abd6"


def turn(text: str, **extra) -> dict:
    return {
        "assistant_id": ASSISTANT_ID,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
        "stream": False,
        "conversation_id": None,
        "attachments": None,
        "metadata": None,
        **extra,
    }


def test_assistant_turn_returns_a_completed_completion(api):
    body = api.post("assistant", json=turn("你好")).json()

    assert body["assistant_id"] == ASSISTANT_ID and body["status"] == "completed"
    assert len(body["conversation_id"]) == 24 and body["last_error"] is None
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "stop"
    assert (
        choice["delta"]["type"] == "content" and choice["delta"]["role"] == "assistant"
    )
    assert choice["delta"]["content"].startswith("这是对“你好”")
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_assistant_stream_sends_in_progress_chunks_then_completed(api):
    with api.stream("POST", "assistant", json=turn("hello", stream=True)) as response:
        assert response.headers["content-type"] == "text/event-stream;charset=UTF-8"
        lines = [line for line in response.iter_lines() if line]

    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert [c["status"] for c in chunks[:-1]] == ["in_progress"] * (len(chunks) - 1)
    assert (
        chunks[-1]["status"] == "completed" and chunks[-1]["usage"]["total_tokens"] > 0
    )
    text = "".join(c["choices"][0]["delta"]["content"] for c in chunks)
    assert text.startswith('Here is a sample answer to "hello"')
    assert len({c["conversation_id"] for c in chunks}) == 1


def test_assistant_conversation_continues_and_is_listed_with_usage(api):
    first = api.post("assistant", json=turn("one")).json()
    second = api.post(
        "assistant", json=turn("two", conversation_id=first["conversation_id"])
    ).json()

    listed = api.post(
        "assistant/conversation/list",
        json={"assistant_id": ASSISTANT_ID, "page": 1, "page_size": 50},
    ).json()

    assert second["conversation_id"] == first["conversation_id"]
    assert listed["code"] == 200 and listed["data"]["assistant_id"] == ASSISTANT_ID
    (entry,) = [
        c
        for c in listed["data"]["conversation_list"]
        if c["id"] == first["conversation_id"]
    ]
    assert entry["usage"]["total_tokens"] == (
        first["usage"]["total_tokens"] + second["usage"]["total_tokens"]
    )


def test_assistant_conversation_list_pages(api):
    for number in range(3):
        api.post("assistant", json=turn(f"page {number}"))

    page = api.post(
        "assistant/conversation/list",
        json={"assistant_id": ASSISTANT_ID, "page": 1, "page_size": 2},
    ).json()["data"]

    assert len(page["conversation_list"]) == 2 and page["has_more"] is True


def test_assistant_list_returns_all_or_the_requested_ones(api):
    everything = api.post("assistant/list", json={}).json()
    one = api.post("assistant/list", json={"assistant_id_list": [ASSISTANT_ID]}).json()

    assert everything["code"] == 200 and everything["msg"] == "success"
    assert len(everything["data"]) >= 2
    assert [a["assistant_id"] for a in one["data"]] == [ASSISTANT_ID]
    assert set(one["data"][0]) == {
        "assistant_id",
        "created_at",
        "updated_at",
        "name",
        "avatar",
        "description",
        "status",
        "tools",
        "starter_prompts",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"assistant_id": "nope"},
        {"conversation_id": "000000000000000000000000"},
        {"messages": []},
    ],
)
def test_assistant_rejects_unknown_ids_and_empty_messages(api, change):
    response = api.post("assistant", json={**turn("hi"), **change})

    assert response.status_code == 400 and response.json()["error"]["code"] == "1214"


def test_assistant_honours_status_directive(api):
    response = api.post("assistant", json=turn("[[sim:status=500]]", stream=True))

    assert response.status_code == 500 and response.json()["error"]["code"] == "500"


def test_assistant_tool_directive_must_name_a_known_tool(api):
    response = api.post("assistant", json=turn("x [[sim:tool=teleport]]"))
    assert response.status_code == 400
