"""`[[sim:...]]` directives: faults and timings a test asks for in the user's text."""

from __future__ import annotations

import json
import time

import httpx
import pytest


def chat(text: str, *, stream: bool = False, model: str = "glm-4") -> dict:
    return {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "stream": stream,
    }


def timed_events(api: httpx.Client, text: str) -> list[tuple[float, str]]:
    """Return (arrival time, data) for each SSE event of a streamed reply."""
    events = []
    with api.stream(
        "POST", "chat/completions", json=chat(text, stream=True)
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line:
                assert line.startswith("data: ")
                events.append((time.monotonic(), line[len("data: ") :]))
    return events


def datas(api: httpx.Client, text: str) -> list[str]:
    return [data for _, data in timed_events(api, text)]


def contents(events: list[str]) -> list[str]:
    return [
        json.loads(data)["choices"][0]["delta"]["content"]
        for data in events
        if data != "[DONE]"
    ]


STATUS_CASES = [
    (429, "1302"),
    (500, "500"),
    (503, "1305"),
    (401, "1000"),
    (400, "1210"),
]


@pytest.mark.parametrize(("status", "code"), STATUS_CASES)
@pytest.mark.parametrize("stream", [False, True])
def test_status_directive_answers_with_platform_error(api, status, code, stream):
    response = api.post(
        "chat/completions", json=chat(f"hi [[sim:status={status}]]", stream=stream)
    )

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert "retry-after" not in response.headers


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_directive_sets_header(api, status):
    response = api.post(
        "chat/completions", json=chat(f"[[sim:status={status},retry_after=7]]")
    )

    assert response.status_code == status
    assert response.headers["retry-after"] == "7"


def test_retry_after_is_not_sent_on_500(api):
    response = api.post(
        "chat/completions", json=chat("[[sim:status=500,retry_after=7]]")
    )

    assert response.status_code == 500 and "retry-after" not in response.headers


def test_code_directive_picks_code_and_its_status(api):
    balance = api.post("chat/completions", json=chat("[[sim:code=1113]]"))
    frequency = api.post("chat/completions", json=chat("[[sim:status=429,code=1303]]"))

    assert balance.status_code == 429 and balance.json()["error"]["code"] == "1113"
    assert frequency.status_code == 429 and frequency.json()["error"]["code"] == "1303"


def test_fail_times_fails_first_requests_then_succeeds(api):
    text = f"retry me {time.time_ns()} [[sim:status=503,fail_times=2]]"

    statuses = [
        api.post("chat/completions", json=chat(text)).status_code for _ in range(3)
    ]
    other = api.post("chat/completions", json=chat(text + " (different)"))

    assert statuses == [503, 503, 200]
    assert other.status_code == 503  # different message text: its own counter


def test_fail_times_counts_stream_and_non_stream_together(api):
    text = f"mixed {time.time_ns()} [[sim:status=429,fail_times=1]]"

    first = api.post("chat/completions", json=chat(text, stream=True))
    second = api.post("chat/completions", json=chat(text, stream=True))

    assert (first.status_code, second.status_code) == (429, 200)
    assert second.text.endswith("data: [DONE]\n\n")


def test_drop_after_closes_connection_without_done(api):
    received = []
    with pytest.raises(httpx.RemoteProtocolError):
        with api.stream(
            "POST", "chat/completions", json=chat("[[sim:drop_after=3]]", stream=True)
        ) as r:
            for line in r.iter_lines():
                if line:
                    received.append(line)

    assert len(received) == 3
    assert all(
        json.loads(line[6:])["choices"][0].get("finish_reason") is None
        for line in received
    )


def test_stall_after_pauses_then_continues(api):
    events = timed_events(api, "[[sim:stall_after=2,stall_s=0.6,tokens=5]]")

    gaps = [
        later - earlier
        for (earlier, _), (later, _) in zip(events, events[1:], strict=False)
    ]
    assert len(contents([data for _, data in events])) == 6  # 5 tokens + final
    assert events[-1][1] == "[DONE]"
    assert gaps[1] >= 0.55  # between chunk 2 and chunk 3
    assert max(gaps[:1] + gaps[2:]) < 0.3


def test_stall_delays_a_non_stream_reply(api):
    started = time.monotonic()
    response = api.post("chat/completions", json=chat("[[sim:stall_s=0.5]]"))

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.5


def test_malformed_after_sends_a_broken_event(api):
    events = datas(api, "[[sim:malformed_after=2,tokens=4]]")

    assert events[2] == "{broken json"
    assert len(contents(events[:2] + events[3:])) == 5
    assert events[-1] == "[DONE]"


def test_sensitive_ends_stream_with_finish_reason_sensitive(api):
    events = datas(api, "[[sim:sensitive,tokens=8]]")

    final = json.loads(events[-2])
    assert final["choices"][0]["finish_reason"] == "sensitive"
    assert final["content_filter"] == [{"role": "assistant", "level": 1}]
    assert len(events) == 4 + 2  # half the reply, the final chunk, [DONE]


def test_sensitive_marks_non_stream_reply(api):
    body = api.post("chat/completions", json=chat("[[sim:sensitive]]")).json()

    assert body["choices"][0]["finish_reason"] == "sensitive"


def test_tokens_sets_the_number_of_content_chunks(api):
    events = datas(api, "count these [[sim:tokens=40]]")
    body = api.post(
        "chat/completions", json=chat("count these [[sim:tokens=40]]")
    ).json()

    assert len(events) == 40 + 2
    assert body["usage"]["completion_tokens"] == 40


def test_rate_paces_the_stream(api):
    started = time.monotonic()
    events = timed_events(api, "[[sim:tokens=11,rate=20]]")

    elapsed = events[-1][0] - started
    assert 0.45 <= elapsed < 2.0  # 10 intervals of 50 ms after the first chunk


def test_stamp_marks_every_chunk_with_its_send_time(api):
    before = time.time()
    events = datas(api, "[[sim:stamp,tokens=5,rate=50]]")
    after = time.time()

    stamps = [json.loads(data)["sim_sent_at"] for data in events[:-1]]
    assert len(stamps) == 6
    assert before <= stamps[0] <= stamps[-1] <= after
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] >= 0.07


def test_error_event_sends_an_error_inside_a_200_stream(api):
    events = datas(api, "[[sim:error_event=3,tokens=6]]")

    assert len(contents(events[:3])) == 3
    assert json.loads(events[3]) == {
        "error": {"code": "1301", "message": json.loads(events[3])["error"]["message"]}
    }
    assert events[4:] == ["[DONE]"]


def test_error_event_takes_a_code(api):
    events = datas(api, "[[sim:error_event,code=1302]]")

    assert json.loads(events[2])["error"]["code"] == "1302"


def test_several_directives_combine(api):
    events = datas(api, "[[sim:tokens=6]] and [[sim:stamp]] [[sim:sensitive]]")

    assert len(events) == 3 + 2
    assert all("sim_sent_at" in json.loads(data) for data in events[:-1])


def test_directives_in_text_parts_count(api):
    payload = {
        "model": "glm-4",
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "[[sim:status=503]]"}],
            }
        ],
    }

    assert api.post("chat/completions", json=payload).status_code == 503


def test_directive_in_an_earlier_message_is_ignored(api):
    payload = {
        "model": "glm-4",
        "messages": [
            {"role": "user", "content": "[[sim:status=500]]"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "and now?"},
        ],
    }

    assert api.post("chat/completions", json=payload).status_code == 200


def test_directive_is_not_quoted_in_the_reply(api):
    body = api.post(
        "chat/completions", json=chat("hello [[sim:tokens=200]] world")
    ).json()

    assert "[[sim" not in body["choices"][0]["message"]["content"]
    content = body["choices"][0]["message"]["content"]
    assert 'Here is a sample answer to "hello world"' in content


@pytest.mark.parametrize(
    "text", ["[[sim:explode]]", "[[sim:tokens=many]]", "[[sim:status]]"]
)
def test_unknown_or_malformed_directive_is_rejected(api, text):
    response = api.post("chat/completions", json=chat(text))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "1210"
    assert "directive" in response.json()["error"]["message"]


@pytest.mark.parametrize("stream", [False, True])
def test_echo_directive_replies_with_the_users_text(api, stream):
    text = "# Title\n\n```python\nprint('<b>hi</b>')\n```\n<img src=x onerror=alert(1)>"
    body = chat(f"{text} [[sim:echo]]", stream=stream)
    if stream:
        with api.stream("POST", "chat/completions", json=body) as response:
            chunks = [
                json.loads(line[len("data: ") :])
                for line in response.iter_lines()
                if line.startswith("data: {")
            ]
        reply = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert len(chunks) > 8  # streamed in many tokens, not one
    else:
        response = api.post("chat/completions", json=body)
        reply = response.json()["choices"][0]["message"]["content"]
    assert reply == text


def test_search_echo_directive_returns_the_users_lines_as_results(api):
    lines = ["<img src=x onerror=alert(1)>", "javascript:alert(2)"]
    body = chat("\n\n".join(lines) + "\n[[sim:search_echo]]")
    body["tools"] = [{"type": "web_search", "web_search": {"count": 1}}]
    results = api.post("chat/completions", json=body).json()["web_search"]
    assert [r["refer"] for r in results] == ["ref_1", "ref_2"]
    for result, line in zip(results, lines, strict=True):
        assert {result[k] for k in ("title", "link", "media", "content")} == {line}
    # Without the web_search tool there are no results to echo.
    assert (
        "web_search"
        not in api.post("chat/completions", json=chat("x [[sim:search_echo]]")).json()
    )
