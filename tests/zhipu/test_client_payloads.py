"""Request bodies and response parsing, without the network.

The same payload rules are checked again end to end against the simulator
(test_client_sync.py); these pin the corner cases cheaply.
"""

from __future__ import annotations

import copy

import pytest

from glmweb import zhipu
from glmweb.zhipu import payloads, responses
from tests.zhipu.test_client_sync import PNG_B64 as B64


def vision_messages(url: str) -> list[zhipu.Message]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]


def test_client_payload_data_url_is_stripped_without_touching_caller() -> None:
    messages = vision_messages(f"data:image/png;base64,{B64}")
    before = copy.deepcopy(messages)
    body = payloads.chat_payload(messages, model="glm-4v", stream=False)
    assert body["messages"][0]["content"][1]["image_url"]["url"] == B64
    assert messages == before


@pytest.mark.parametrize("url", ["https://example.com/cat.png", B64])
def test_client_payload_plain_image_url_is_sent_as_is(url: str) -> None:
    body = payloads.chat_payload(vision_messages(url), model="glm-4v", stream=False)
    assert body["messages"][0]["content"][1]["image_url"]["url"] == url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"temperature": 0}, {"temperature": 0.01, "do_sample": False}),
        ({"temperature": -1}, {"temperature": 0.01, "do_sample": False}),
        ({"temperature": 1}, {"temperature": 0.99}),
        ({"temperature": 0.7}, {"temperature": 0.7}),
        ({"top_p": 0}, {"top_p": 0.01}),
        ({"top_p": 1.5}, {"top_p": 0.99}),
        ({"top_p": 0.5}, {"top_p": 0.5}),
    ],
)
def test_client_payload_sampling_is_clamped_like_the_sdk(
    given: dict, expected: dict
) -> None:
    body = payloads.chat_payload([], model="m", stream=False, **given)
    assert {k: body[k] for k in expected} == expected
    if "do_sample" not in expected:
        assert "do_sample" not in body


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (True, "enabled"),
        (False, "disabled"),
        ("enabled", "enabled"),
        ("disabled", "disabled"),
    ],
)
def test_client_payload_thinking_is_a_type_object(given: object, sent: str) -> None:
    body = payloads.chat_payload([], model="m", stream=True, thinking=given)
    assert body["thinking"] == {"type": sent}


def test_client_payload_unset_options_are_left_out() -> None:
    body = payloads.chat_payload(
        [{"role": "user", "content": "hi"}], model="m", stream=False
    )
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
    }


def test_client_payload_web_search_adds_an_enabled_tool_after_others() -> None:
    function = {"type": "function", "function": {"name": "f", "parameters": {}}}
    body = payloads.chat_payload(
        [],
        model="m",
        stream=False,
        tools=[function],
        web_search={"search_query": "GLM news", "count": 3},
    )
    assert body["tools"] == [
        function,
        {
            "type": "web_search",
            "web_search": {
                "enable": True,
                "search_result": True,
                "search_query": "GLM news",
                "count": 3,
            },
        },
    ]


def test_client_payload_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="temprature"):
        payloads.chat_payload([], model="m", stream=False, temprature=0.5)


def test_client_payload_video_strips_data_url_and_skips_unset() -> None:
    body = payloads.video_payload(
        "a cat", model="cogvideox-3", image_url=f"data:image/jpeg;base64,{B64}", fps=30
    )
    assert body == {
        "model": "cogvideox-3",
        "prompt": "a cat",
        "image_url": B64,
        "fps": 30,
    }


def test_client_payload_assistant_text_becomes_a_text_part() -> None:
    body = payloads.assistant_payload(
        "asst", "hello", stream=True, conversation_id="c1", attachments=["file-1"]
    )
    assert body == {
        "assistant_id": "asst",
        "stream": True,
        "conversation_id": "c1",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}],
        "attachments": [{"file_id": "file-1"}],
    }


def test_client_parse_chat_completion_reads_every_field() -> None:
    data = {
        "id": "gen-1",
        "request_id": "req-1",
        "model": "glm-4-flash",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": "Hi",
                    "reasoning_content": "because",
                },
            }
        ],
        "usage": {
            "prompt_tokens": 1,
            "completion_tokens": 2,
            "total_tokens": 3,
            "prompt_tokens_details": {"cached_tokens": 1},
        },
        "web_search": [{"title": "t", "link": "https://l", "refer": "ref_1"}],
    }
    reply = responses.parse_chat_completion(data, None)
    assert (reply.content, reply.reasoning, reply.finish_reason) == (
        "Hi",
        "because",
        "stop",
    )
    assert reply.usage == zhipu.Usage(1, 2, 3, cached_tokens=1)
    assert reply.web_search[0].refer == "ref_1" and reply.request_id == "req-1"


def test_client_parse_chat_completion_without_choices_raises_response_error() -> None:
    with pytest.raises(zhipu.APIResponseError):
        responses.parse_chat_completion({"id": "x"}, "sent")


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("PROCESSING", zhipu.VideoStatus.PROCESSING),
        ("SUCCESS", zhipu.VideoStatus.SUCCESS),
        ("FAIL", zhipu.VideoStatus.FAIL),
        ("FAILED", zhipu.VideoStatus.FAIL),
    ],
)
def test_client_parse_video_result_maps_status(
    raw: str, status: zhipu.VideoStatus
) -> None:
    data = {"task_status": raw, "request_id": "r", "model": "cogvideox-3"}
    if raw == "SUCCESS":
        data["video_result"] = [
            {"url": "https://v/1.mp4", "cover_image_url": "https://v/1.png"}
        ]
    result = responses.parse_video_result(data, "task-1", None)
    assert result.status is status and result.task_id == "task-1"
    assert result.done is (status is not zhipu.VideoStatus.PROCESSING)
    assert (result.video_url is not None) is (raw == "SUCCESS")
    assert (result.error is not None) is (status is zhipu.VideoStatus.FAIL)


def test_client_parse_video_result_unknown_status_raises_response_error() -> None:
    with pytest.raises(zhipu.APIResponseError):
        responses.parse_video_result({"task_status": "WEIRD"}, "t", None)
