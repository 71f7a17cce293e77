"""The official SDKs (zhipuai, and zai-sdk's ZhipuAiClient and ZaiClient) run the seed's
examples against the simulator, each from its own virtualenv (sdk_examples.py)."""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .conftest import sdk_python

pytestmark = [pytest.mark.contract, pytest.mark.timeout(900)]

SCRIPT = Path(__file__).with_name("sdk_examples.py")
CLIENTS = [("zhipuai", "ZhipuAI"), ("zai", "ZhipuAiClient"), ("zai", "ZaiClient")]


@dataclass
class SdkRun:
    sdk: str
    client: str
    results: dict
    requests: list[dict]  # what the simulator received during the run

    def result(self, name: str) -> dict:
        result = self.results[name]
        assert "exception" not in result, result.get("traceback")
        return result

    def request_with(self, text: str) -> dict:
        """Return the recorded chat request whose last message is `text`."""
        for entry in self.requests:
            messages = (entry["json"] or {}).get("messages") or []
            if messages and messages[-1].get("content") == text:
                return entry
        raise AssertionError(f"no recorded request sent {text!r}")


@pytest.fixture(scope="session", params=CLIENTS, ids=[client for _, client in CLIENTS])
def sdk_run(request, simulator, seed_image) -> SdkRun:
    sdk, client = request.param
    python = sdk_python(sdk)
    httpx.delete(f"{simulator.root}/_sim/requests")
    completed = subprocess.run(
        [
            str(python),
            str(SCRIPT),
            "--sdk",
            sdk,
            "--client",
            client,
            "--base-url",
            simulator.base_url,
            "--image",
            str(seed_image),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return SdkRun(sdk, client, json.loads(completed.stdout), simulator.requests())


def test_basic_chat_returns_the_reply_with_a_platform_id(sdk_run):
    result = sdk_run.result("basic_chat")

    assert (
        result["content"]
        == 'Here is a sample answer to "Hello, ZhipuAI!". It comes from the GLM '
        "simulator standing in for glm-4: set an API key and the real model answers "
        "instead."
    )
    assert result["finish_reason"] == "stop" and result["total_tokens"] > 0
    assert len(result["id"]) == 30 and result["request_id"] == result["id"]


def test_sdk_sends_raw_key_and_nulls_by_default(sdk_run):
    sent = sdk_run.request_with("Hello, ZhipuAI!")

    assert sent["headers"]["authorization"] == "Bearer test-id.test-secret"
    assert sent["json"]["response_format"] is None and sent["json"]["thinking"] is None
    if sdk_run.client == "ZaiClient":
        assert sent["headers"]["accept-language"] == "en-US,en"


def test_streaming_yields_the_same_text_and_usage_on_last_chunk(sdk_run):
    result = sdk_run.result("streaming")

    text = result["text"]
    assert text.startswith('Here is a sample answer to "Tell me a story about AI.". ')
    assert text.endswith("glm-4: set an API key and the real model answers instead.")
    assert result["chunks"] > 5
    assert result["finish_reason"] == "stop" and result["usage_total"] > 0


def test_thinking_stream_reasons_before_answering(sdk_run):
    order = sdk_run.result("thinking_stream")["order"]

    assert order[0] == "reasoning" and order[-1] == "content"
    assert order == sorted(order, key=lambda kind: kind != "reasoning")


def test_vision_with_base64_image_reports_its_size_and_colour(sdk_run):
    result = sdk_run.result("vision")

    assert "Image size 40x30, dominant colour #" in result["content"]
    colour = result["content"].split("dominant colour #")[1][:6]
    red, green, blue = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    assert red > 240 and green < 16 and blue < 16  # JPEG may round #ff0000 slightly
    # The SDK cut the data-URL prefix; the simulator decoded the bare base64.
    assert result["sent_url_has_prefix"] is False


def test_vision_request_carried_bare_base64(sdk_run, seed_image):
    entries = [
        e for e in sdk_run.requests if (e["json"] or {}).get("model") == "glm-4v"
    ]

    url = entries[-1]["json"]["messages"][0]["content"][1]["image_url"]["url"]
    assert base64.b64decode(url) == seed_image.read_bytes()


def test_charglm_reply_uses_meta_names(sdk_run):
    content = sdk_run.result("charglm")["content"]

    assert content.startswith("Xiaoya: Hello, Director…")


def test_web_search_results_reach_the_sdk_response(sdk_run):
    result = sdk_run.result("web_search")

    assert result["refers"] == ["ref_1", "ref_2", "ref_3"]
    assert all("Search the Zhipu" in title for title in result["titles"])
    assert "[ref_1]" in result["content"]


def test_cogvideox_job_succeeds_and_its_media_downloads(sdk_run):
    result = sdk_run.result("video")

    assert result["statuses"][0] == "PROCESSING" and result["statuses"][-1] == "SUCCESS"
    assert result["mp4_status"] == 200 and result["mp4_type"] == "video/mp4"
    assert (
        result["mp4_is_mp4"]
        and result["png_is_png"]
        and result["png_type"] == "image/png"
    )


def test_extra_body_puts_temperature_and_max_tokens_at_top_level(sdk_run):
    sdk_run.result("extra_body")

    sent = sdk_run.request_with("extra_body example")["json"]
    assert sent["temperature"] == 0.7 and sent["max_tokens"] == 1000


def test_system_prompt_example_gets_a_chinese_reply(sdk_run):
    content = sdk_run.result("system_prompt")["content"]

    assert content.startswith("这是对“帮我优化这段代码...”")


def test_conversation_history_example_sends_the_history(sdk_run):
    result = sdk_run.result("conversation_history")

    assert result["turns"] == 4 and 'answer to "second turn"' in result["replies"][1]
    assert len(sdk_run.request_with("second turn")["json"]["messages"]) == 3


def test_async_chat_polls_to_success(sdk_run):
    result = sdk_run.result("async_chat")

    assert (result["submitted"], result["status"]) == ("PROCESSING", "SUCCESS")
    assert result["content"].startswith('Here is a sample answer to "async example"')


def test_assistant_conversation_stream_and_listings_parse(sdk_run):
    result = sdk_run.result("assistant")

    assert result["last_status"] == "completed" and result["text"].startswith(
        "这是对“你好”"
    )
    assert result["support_ids"] == ["659e54b1b8006379b4b2abd6"]
    assert result["conversation_listed"] is True


def test_assistant_tool_call_chunks_parse_and_a_follow_up_keeps_the_conversation(
    sdk_run,
):
    result = sdk_run.result("assistant_tool_calls")

    calls = result["calls"]
    assert calls["web_browser"]["input"] == "run it"
    assert calls["web_browser"]["output"]["link"] == "https://example.com/simulated"
    assert calls["code_interpreter"]["output"]["logs"] == "42\n"
    assert calls["drawing_tool"]["output"]["image"].startswith("https://")
    assert result["same_conversation"] is True


def test_a_failed_assistant_run_reaches_the_sdk_as_a_failed_chunk(sdk_run):
    result = sdk_run.result("assistant_failed")

    assert result["statuses"] == ["in_progress", "in_progress", "failed"]
    assert result["last_error"]["code"] == "1234"
    assert "simulated agent failure" in result["last_error"]["message"]


def test_jwt_mode_sends_a_millisecond_hs256_token_the_simulator_accepts(sdk_run):
    assert sdk_run.result("jwt_mode")["content"].startswith(
        'Here is a sample answer to "jwt mode example"'
    )

    scheme, token = sdk_run.request_with("jwt mode example")["headers"][
        "authorization"
    ].split()
    header, payload = (
        json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        for part in token.split(".")[:2]
    )
    assert scheme == "Bearer"
    assert header["alg"] == "HS256" and header["sign_type"] == "SIGN"
    assert payload["api_key"] == "test-id"
    assert payload["timestamp"] > 10**12  # milliseconds
    # 210 s of life; the SDKs read the clock twice, so the two can differ by a few ms.
    assert 209_990 <= payload["exp"] - payload["timestamp"] <= 210_000


@pytest.mark.parametrize(
    ("example", "caught", "status", "code"),
    [
        ("error_400", "APIRequestFailedError", 400, "1211"),
        ("error_401", "APIAuthenticationError", 401, "1002"),
        ("error_401_jwt_wrong_secret", "APIAuthenticationError", 401, "1004"),
        ("error_429", "APIReachLimitError", 429, "1302"),
        ("error_500", "APIInternalError", 500, "500"),
        ("error_503", "APIServerFlowExceedError", 503, "1305"),
    ],
)
def test_seed_error_branch_catches_each_status(sdk_run, example, caught, status, code):
    result = sdk_run.result(example)

    assert result == {"caught": caught, "status_code": status, "code": code}


def test_seed_timeout_branch_catches_a_stalled_reply(sdk_run):
    result = sdk_run.result("error_timeout")

    assert result["caught"] == "APITimeoutError"
    assert result["seconds"] < 2.5  # the 0.5 s timeout, not the 3 s stall


def test_sdk_retries_succeed_once_fail_times_is_used_up(sdk_run):
    assert sdk_run.result("retry_after_failures")["content"].startswith(
        'Here is a sample answer to "retry '
    )

    attempts = [e for e in sdk_run.requests if "fail_times=2" in json.dumps(e["json"])]
    assert len(attempts) == 3


def test_stream_error_event_raises_the_sdk_stream_error(sdk_run):
    result = sdk_run.result("stream_error_event")

    assert result["raised"] == "APIResponseError" and result["chunks_before"] == 2
    assert result["error"]["code"] == "1301"


def test_stream_sensitive_finishes_without_raising(sdk_run):
    assert sdk_run.result("stream_sensitive")["finish_reasons"] == ["sensitive"]


def test_stream_malformed_event_makes_the_sdk_raise(sdk_run):
    result = sdk_run.result("stream_malformed")

    assert result == {"raised": "JSONDecodeError", "chunks_before": 2, "error": None}
