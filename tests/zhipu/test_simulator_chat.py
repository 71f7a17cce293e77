"""The simulator's chat/completions: platform shapes, streaming framing, thinking,
role-play names, web search and async chat. Plain httpx over a real socket."""

from __future__ import annotations

import json
import time

import httpx
import pytest


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def sse_events(response: httpx.Response) -> list[str]:
    """Return the data of every SSE event, checking the platform's exact framing."""
    raw = response.read().decode()
    assert raw.endswith("\n\n")
    events = raw[:-2].split("\n\n")
    for event in events:
        assert event.startswith("data: ") and "\n" not in event, event
    return [event[len("data: ") :] for event in events]


def stream(api: httpx.Client, payload: dict) -> tuple[httpx.Response, list[str]]:
    with api.stream(
        "POST", "chat/completions", json={**payload, "stream": True}
    ) as response:
        return response, sse_events(response)


def test_chat_completion_has_platform_shape(api):
    response = api.post(
        "chat/completions", json={"model": "glm-4", "messages": user("Hello, ZhipuAI!")}
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    body = response.json()
    assert set(body) == {
        "choices",
        "created",
        "id",
        "model",
        "object",
        "request_id",
        "usage",
    }
    assert len(body["id"]) == 30 and body["id"][:14].isdigit()
    assert body["request_id"] == body["id"]
    assert body["object"] == "chat.completion" and body["model"] == "glm-4"
    assert abs(body["created"] - time.time()) < 60
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert '"Hello, ZhipuAI!"' in choice["message"]["content"]
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_chat_completion_accepts_the_nulls_sdks_send(api):
    response = api.post(
        "chat/completions",
        json={
            "model": "glm-4-flash",
            "messages": user("hi"),
            "response_format": None,
            "thinking": None,
            "tools": None,
            "meta": None,
            "temperature": None,
        },
    )

    assert response.status_code == 200, response.text


def test_chat_completion_echoes_caller_request_id(api):
    body = api.post(
        "chat/completions",
        json={
            "model": "glm-4",
            "messages": user("hi"),
            "request_id": "my-request-0001",
        },
    ).json()

    assert body["request_id"] == "my-request-0001"
    assert len(body["id"]) == 30


def test_chat_reply_is_a_deterministic_function_of_input(api):
    payload = {"model": "glm-4-air", "messages": user("Same words twice")}

    first = api.post("chat/completions", json=payload).json()
    second = api.post("chat/completions", json=payload).json()

    assert first["choices"] == second["choices"] and first["usage"] == second["usage"]
    assert first["id"] != second["id"]


def test_chat_reply_is_chinese_for_chinese_message(api):
    english = api.post(
        "chat/completions", json={"model": "glm-4", "messages": user("hello")}
    )
    chinese = api.post(
        "chat/completions", json={"model": "glm-4", "messages": user("你好，智谱")}
    )

    assert "这是对" not in english.json()["choices"][0]["message"]["content"]
    assert chinese.json()["choices"][0]["message"]["content"].startswith(
        "这是对“你好，智谱”"
    )


def test_chat_stream_frames_chunks_like_the_platform(api):
    payload = {"model": "glm-4", "messages": user("Tell me a story about AI.")}
    whole = api.post("chat/completions", json=payload).json()

    response, events = stream(api, payload)

    assert response.headers["content-type"] == "text/event-stream;charset=UTF-8"
    assert events[-1] == "[DONE]"
    chunks = [json.loads(data) for data in events[:-1]]
    assert len(chunks) > 3
    for data, chunk in zip(events, chunks, strict=False):
        assert data == json.dumps(chunk, ensure_ascii=False, separators=(",", ":"))
        assert chunk["object"] == "chat.completion.chunk" and chunk["model"] == "glm-4"
        assert chunk["id"] == chunks[0]["id"] and len(chunk["id"]) == 30
        assert chunk["choices"][0]["index"] == 0
        assert chunk["choices"][0]["delta"]["role"] == "assistant"
    assert all(
        "usage" not in c and "finish_reason" not in c["choices"][0] for c in chunks[:-1]
    )
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["choices"][0]["delta"]["content"] == ""
    assert final["usage"] == whole["usage"]
    text = "".join(c["choices"][0]["delta"]["content"] for c in chunks)
    assert text == whole["choices"][0]["message"]["content"]


def test_chat_stream_thinking_sends_reasoning_before_content(api):
    _, events = stream(
        api,
        {"model": "glm-4.5", "messages": user("why?"), "thinking": {"type": "enabled"}},
    )

    deltas = [json.loads(data)["choices"][0]["delta"] for data in events[:-1]]
    kinds = [
        "reasoning" if "reasoning_content" in d else "content" for d in deltas[:-1]
    ]
    assert kinds[0] == "reasoning" and kinds[-1] == "content"
    assert kinds == sorted(kinds, key=lambda kind: kind != "reasoning")
    usage = json.loads(events[-2])["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == kinds.count(
        "reasoning"
    )


def test_chat_thinking_fills_reasoning_content_when_not_streamed(api):
    body = api.post(
        "chat/completions",
        json={
            "model": "glm-4.7",
            "messages": user("why?"),
            "thinking": {"type": "enabled"},
        },
    ).json()

    message = body["choices"][0]["message"]
    assert message["reasoning_content"].startswith('The user wrote "why?"')
    assert message["content"].startswith('Here is a sample answer to "why?"')


@pytest.mark.parametrize("thinking", [None, "absent"])
def test_chat_thinking_model_thinks_by_default(api, thinking):
    payload = {"model": "glm-4.5-flash", "messages": user("why?"), "thinking": thinking}
    if thinking == "absent":
        del payload["thinking"]

    body = api.post("chat/completions", json=payload).json()

    assert body["choices"][0]["message"]["reasoning_content"]
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


@pytest.mark.parametrize(
    ("model", "thinking"),
    [
        ("glm-4", {"type": "enabled"}),
        ("glm-4.5", {"type": "disabled"}),
        ("glm-4v", None),
    ],
)
def test_chat_without_thinking_has_no_reasoning(api, model, thinking):
    body = api.post(
        "chat/completions",
        json={"model": model, "messages": user("why?"), "thinking": thinking},
    ).json()

    assert "reasoning_content" not in body["choices"][0]["message"]


def test_charglm_reply_uses_meta_names(api):
    meta = {
        "user_info": "a director",
        "bot_info": "a singer",
        "bot_name": "Xiaoya",
        "user_name": "Director",
    }

    english = api.post(
        "chat/completions",
        json={"model": "charglm-3", "messages": user("How are you?"), "meta": meta},
    ).json()
    chinese = api.post(
        "chat/completions",
        json={
            "model": "emohaa",
            "messages": user("最近怎么样？"),
            "meta": {**meta, "bot_name": "小雅", "user_name": "导演"},
        },
    ).json()

    assert english["choices"][0]["message"]["content"].startswith(
        "Xiaoya: Hello, Director…"
    )
    assert chinese["choices"][0]["message"]["content"].startswith("小雅：你好，导演……")


@pytest.mark.parametrize(
    ("meta", "code"), [(None, "1213"), ({"bot_name": "X"}, "1214")]
)
def test_charglm_without_meta_names_is_rejected(api, meta, code):
    response = api.post(
        "chat/completions",
        json={"model": "charglm-4", "messages": user("hi"), "meta": meta},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_web_search_reply_lists_results_and_cites_them(api):
    tools = [
        {
            "type": "web_search",
            "web_search": {
                "enable": "True",
                "search_result": "True",
                "count": "2",
                "search_query": "Zhipu news",
            },
        }
    ]

    body = api.post(
        "chat/completions",
        json={"model": "glm-4", "messages": user("latest AI news"), "tools": tools},
    ).json()

    results = body["web_search"]
    assert [item["refer"] for item in results] == ["ref_1", "ref_2"]
    for item in results:
        assert set(item) == {
            "icon",
            "title",
            "link",
            "media",
            "publish_date",
            "content",
            "refer",
        }
        assert "Zhipu news" in item["title"]
    assert "[ref_1]" in body["choices"][0]["message"]["content"]


def test_web_search_stream_puts_results_on_first_chunk_only(api):
    tools = [{"type": "web_search", "web_search": {"search_result": True}}]

    _, events = stream(
        api, {"model": "glm-4", "messages": user("搜索一下"), "tools": tools}
    )

    chunks = [json.loads(data) for data in events[:-1]]
    assert [item["refer"] for item in chunks[0]["web_search"]] == [
        "ref_1",
        "ref_2",
        "ref_3",
    ]
    assert not any("web_search" in chunk for chunk in chunks[1:])
    assert "[ref_1]" in "".join(c["choices"][0]["delta"]["content"] for c in chunks)


def test_web_search_without_search_result_omits_the_list(api):
    tools = [{"type": "web_search", "web_search": {"search_result": False}}]

    body = api.post(
        "chat/completions",
        json={"model": "glm-4", "messages": user("news"), "tools": tools},
    ).json()

    assert "web_search" not in body
    assert "[ref_1]" in body["choices"][0]["message"]["content"]


def test_max_tokens_cuts_reply_with_finish_reason_length(api):
    body = api.post(
        "chat/completions",
        json={
            "model": "glm-4",
            "messages": user("a long story please"),
            "max_tokens": 3,
        },
    ).json()

    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", 1.5), ("top_p", 0), ("max_tokens", 0), ("max_tokens", "9")],
)
def test_out_of_range_sampling_is_rejected(api, field, value):
    response = api.post(
        "chat/completions",
        json={"model": "glm-4", "messages": user("hi"), field: value},
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "1214", "message": f"{field}参数非法。请检查文档。"}
    }


def test_async_chat_completes_through_async_result(api):
    submitted = api.post(
        "async/chat/completions",
        json={"model": "glm-4", "messages": user("async please")},
    ).json()

    assert submitted["task_status"] == "PROCESSING" and submitted["model"] == "glm-4"
    deadline = time.monotonic() + 5
    while True:
        result = api.get(f"async-result/{submitted['id']}").json()
        if result["task_status"] != "PROCESSING" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert result["task_status"] == "SUCCESS"
    assert result["id"] == submitted["id"]
    assert result["choices"][0]["message"]["content"].startswith(
        'Here is a sample answer to "async please"'
    )
    assert result["usage"]["total_tokens"] > 0


def test_max_tokens_cuts_a_streamed_reply_with_finish_reason_length(api):
    with api.stream(
        "POST",
        "chat/completions",
        json={
            "model": "glm-4",
            "messages": user("a long story please"),
            "max_tokens": 3,
            "stream": True,
        },
    ) as response:
        chunks = [
            json.loads(line[6:])
            for line in response.iter_lines()
            if line.startswith("data: {")
        ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


@pytest.mark.parametrize("stream", [False, True])
def test_a_finish_directive_ends_the_reply_as_asked(api, stream):
    body = {
        "model": "glm-4",
        "messages": user("hi [[sim:finish=network_error]]"),
        "stream": stream,
    }
    if not stream:
        reply = api.post("chat/completions", json=body).json()
        assert reply["choices"][0]["finish_reason"] == "network_error"
        return
    with api.stream("POST", "chat/completions", json=body) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: {")]
    assert json.loads(lines[-1][6:])["choices"][0]["finish_reason"] == "network_error"


def test_web_search_answers_cite_the_first_two_results(api):
    tools = [{"type": "web_search", "web_search": {"count": 2}}]
    body = api.post(
        "chat/completions",
        json={"model": "glm-4", "messages": user("news"), "tools": tools},
    ).json()
    assert "[ref_1][ref_2]" in body["choices"][0]["message"]["content"]
    assert [r["refer"] for r in body["web_search"]] == ["ref_1", "ref_2"]


@pytest.mark.parametrize(
    ("system", "said", "title"),
    [
        (
            "Write a short title for the conversation below.",
            "User: Plan a trip to Kyoto, three days please\n\nAssistant: Sure.",
            "Plan a trip to Kyoto, three",
        ),
        (
            "请为下面的对话写一个标题。",
            "User: 帮我写一首关于春天的诗，要押韵\n\nAssistant: 好的",
            "帮我写一首关于春天的诗",
        ),
        ("Reply with a title only", "Why is the sky blue?", "Why is the sky blue"),
    ],
)
def test_title_request_gets_a_short_title_not_a_quote(api, system, said, title):
    messages = [{"role": "system", "content": system}, *user(said)]

    reply = api.post(
        "chat/completions", json={"model": "glm-4-flash", "messages": messages}
    )

    assert reply.json()["choices"][0]["message"]["content"] == title


def test_a_system_prompt_without_title_gets_the_usual_reply(api):
    messages = [{"role": "system", "content": "Be brief."}, *user("hello")]

    reply = api.post("chat/completions", json={"model": "glm-4", "messages": messages})

    assert reply.json()["choices"][0]["message"]["content"].startswith(
        'Here is a sample answer to "hello"'
    )
