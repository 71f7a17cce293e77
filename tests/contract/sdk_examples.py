"""The seed's examples, run with an official SDK against the GLM simulator.

Runs inside an SDK's own virtualenv (never the project's), so it imports nothing from
the project. Usage:

    python sdk_examples.py --sdk zhipuai|zai --client ZhipuAI|ZhipuAiClient|ZaiClient \
        --base-url http://127.0.0.1:8765/api/paas/v4/ --image path/to/image.jpg

Prints one JSON object: example name -> what it observed (or the exception it hit).
"""

from __future__ import annotations

import argparse
import base64
import json
import time
import traceback
from typing import Any, Callable

import httpx

KEY = "test-id.test-secret"
ASSISTANT_ID = "659e54b1b8006379b4b2abd6"
EXAMPLES: dict[str, Callable[["Context"], Any]] = {}


def example(function: Callable[["Context"], Any]) -> Callable[["Context"], Any]:
    EXAMPLES[function.__name__] = function
    return function


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        if args.sdk == "zhipuai":
            import zhipuai

            self.errors = zhipuai
            self.client_class = zhipuai.ZhipuAI
        else:
            import zai
            from zai import core

            self.errors = core
            self.client_class = getattr(zai, args.client)

    def client(self, **options: Any) -> Any:
        options.setdefault("api_key", KEY)
        options.setdefault("max_retries", 0)
        return self.client_class(base_url=self.args.base_url, **options)


def encode_image(image_path: str) -> str:
    with open(image_path, "rb") as f:
        return base64.b64encode(f.read()).decode("utf-8")


@example
def basic_chat(ctx: Context) -> dict:
    response = ctx.client().chat.completions.create(
        model="glm-4",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello, ZhipuAI!"},
        ],
    )
    return {
        "content": response.choices[0].message.content,
        "finish_reason": response.choices[0].finish_reason,
        "id": response.id,
        "request_id": response.request_id,
        "total_tokens": response.usage.total_tokens,
    }


@example
def streaming(ctx: Context) -> dict:
    response = ctx.client().chat.completions.create(
        model="glm-4",
        messages=[{"role": "user", "content": "Tell me a story about AI."}],
        stream=True,
    )
    text, chunks, last = "", 0, None
    for chunk in response:
        chunks += 1
        if chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        last = chunk
    return {
        "text": text,
        "chunks": chunks,
        "finish_reason": last.choices[0].finish_reason,
        "usage_total": last.usage.total_tokens,
    }


@example
def thinking_stream(ctx: Context) -> dict:
    response = ctx.client().chat.completions.create(
        model="glm-4.5",
        messages=[{"role": "user", "content": "Think first."}],
        stream=True,
        thinking={"type": "enabled"},
    )
    order = []
    for chunk in response:
        delta = chunk.choices[0].delta
        if delta.reasoning_content:
            order.append("reasoning")
        elif delta.content:
            order.append("content")
    return {"order": order}


@example
def vision(ctx: Context) -> dict:
    base64_image = encode_image(ctx.args.image)
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What's in this image?"},
                {
                    "type": "image_url",
                    "image_url": {"url": f"data:image/jpeg;base64,{base64_image}"},
                },
            ],
        }
    ]
    response = ctx.client().chat.completions.create(model="glm-4v", messages=messages)
    return {
        "content": response.choices[0].message.content,
        # The SDK cuts "data:...;base64," off the caller's own dict before sending.
        "sent_url_has_prefix": messages[0]["content"][1]["image_url"]["url"].startswith(
            "data:"
        ),
    }


@example
def charglm(ctx: Context) -> dict:
    response = ctx.client().chat.completions.create(
        model="charglm-3",
        messages=[{"role": "user", "content": "Hello, how are you doing lately?"}],
        meta={
            "user_info": "I am a film director who specializes in music-themed movies.",
            "bot_info": "You are a popular domestic female singer and actress.",
            "bot_name": "Xiaoya",
            "user_name": "Director",
        },
    )
    return {"content": response.choices[0].message.content}


@example
def web_search(ctx: Context) -> dict:
    response = ctx.client().chat.completions.create(
        model="glm-4",
        messages=[{"role": "user", "content": "Search for the latest AI news"}],
        tools=[
            {
                "type": "web_search",
                "web_search": {
                    "search_query": "Search the Zhipu",
                    "search_result": True,
                },
            }
        ],
    )
    results = getattr(response, "web_search", None) or []
    return {
        "content": response.choices[0].message.content,
        "refers": [item["refer"] for item in results],
        "titles": [item["title"] for item in results],
    }


@example
def video(ctx: Context) -> dict:
    client = ctx.client()
    response = client.videos.generations(
        model="cogvideox-2",
        prompt="A beautiful sunset beach scene",
        quality="quality",
        with_audio=True,
        size="1920x1080",
        fps=30,
        user_id="user_12345",
    )
    statuses = [response.task_status]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        result = client.videos.retrieve_videos_result(id=response.id)
        statuses.append(result.task_status)
        if result.task_status != "PROCESSING":
            break
        time.sleep(0.3)
    video_url = result.video_result[0].url
    cover_url = result.video_result[0].cover_image_url
    mp4, png = httpx.get(video_url, timeout=10), httpx.get(cover_url, timeout=10)
    return {
        "id": response.id,
        "statuses": statuses,
        "mp4_status": mp4.status_code,
        "mp4_type": mp4.headers.get("content-type"),
        "mp4_is_mp4": mp4.content[4:8] == b"ftyp",
        "png_type": png.headers.get("content-type"),
        "png_is_png": png.content[:8] == b"\x89PNG\r\n\x1a\n",
    }


@example
def extra_body(ctx: Context) -> dict:
    response = ctx.client().chat.completions.create(
        model="glm-4",
        messages=[{"role": "user", "content": "extra_body example"}],
        extra_body={"temperature": 0.7, "max_tokens": 1000},
    )
    return {"content": response.choices[0].message.content}


@example
def system_prompt(ctx: Context) -> dict:
    system_prompts = {
        "coding": "你是一个专业的程序员助手，精通 Python、JavaScript 和 Go。"
    }
    response = ctx.client().chat.completions.create(
        model="glm-4",
        messages=[
            {"role": "system", "content": system_prompts["coding"]},
            {"role": "user", "content": "帮我优化这段代码..."},
        ],
    )
    return {"content": response.choices[0].message.content}


@example
def conversation_history(ctx: Context) -> dict:
    client = ctx.client()
    history: list[dict] = []

    def chat(user_message: str) -> str:
        history.append({"role": "user", "content": user_message})
        response = client.chat.completions.create(model="glm-4", messages=history)
        message = response.choices[0].message.content
        history.append({"role": "assistant", "content": message})
        return message

    return {"replies": [chat("first turn"), chat("second turn")], "turns": len(history)}


@example
def async_chat(ctx: Context) -> dict:
    client = ctx.client()
    task = client.chat.asyncCompletions.create(
        model="glm-4", messages=[{"role": "user", "content": "async example"}]
    )
    deadline = time.monotonic() + 10
    while True:
        result = client.chat.asyncCompletions.retrieve_completion_result(id=task.id)
        if result.task_status != "PROCESSING" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return {
        "submitted": task.task_status,
        "status": result.task_status,
        "content": result.choices[0].message.content,
    }


@example
def assistant(ctx: Context) -> dict:
    client = ctx.client()
    chunks = client.assistant.conversation(
        assistant_id=ASSISTANT_ID,
        messages=[{"role": "user", "content": [{"type": "text", "text": "你好"}]}],
        stream=True,
    )
    statuses, text, conversation_id = [], "", None
    for chunk in chunks:
        statuses.append(chunk.status)
        text += chunk.choices[0].delta.content
        conversation_id = chunk.conversation_id
    support = client.assistant.query_support(assistant_id_list=[ASSISTANT_ID])
    usage = client.assistant.query_conversation_usage(assistant_id=ASSISTANT_ID)
    return {
        "last_status": statuses[-1],
        "text": text,
        "support_ids": [item.assistant_id for item in support.data],
        "conversation_listed": conversation_id
        in [item.id for item in usage.data.conversation_list],
    }


def _ask_agent(client: Any, text: str, **options: Any) -> Any:
    return client.assistant.conversation(
        assistant_id=ASSISTANT_ID,
        messages=[{"role": "user", "content": [{"type": "text", "text": text}]}],
        stream=True,
        **options,
    )


@example
def assistant_tool_calls(ctx: Context) -> dict:
    """Each tool's chunk parses into the SDK's typed tool calls; a follow-up with the
    conversation_id continues the same agent conversation."""
    client = ctx.client()
    calls: dict[str, dict] = {}
    conversation_id = None
    for tool in ("web_browser", "code_interpreter", "drawing_tool"):
        for chunk in _ask_agent(client, f"run it [[sim:tool={tool}]]"):
            conversation_id = chunk.conversation_id
            delta = chunk.choices[0].delta
            if delta.type != "tool_calls":
                continue
            for call in delta.tool_calls:
                detail = getattr(call, call.type)
                output = detail.outputs[0]
                calls[call.type] = {
                    "input": detail.input,
                    "output": output.model_dump(exclude_none=True),
                }
    follow_up = [
        chunk.conversation_id
        for chunk in _ask_agent(client, "and then?", conversation_id=conversation_id)
    ]
    return {"calls": calls, "same_conversation": set(follow_up) == {conversation_id}}


@example
def assistant_failed(ctx: Context) -> dict:
    """A run that fails mid-stream: the SDK yields the chunk with status "failed"."""
    chunks = list(_ask_agent(ctx.client(), "[[sim:error_event=2,code=1234]]"))
    last = chunks[-1]
    return {
        "statuses": [chunk.status for chunk in chunks],
        "last_error": last.last_error.model_dump() if last.last_error else None,
    }


@example
def jwt_mode(ctx: Context) -> dict:
    response = ctx.client(disable_token_cache=False).chat.completions.create(
        model="glm-4", messages=[{"role": "user", "content": "jwt mode example"}]
    )
    return {"content": response.choices[0].message.content}


def seed_error_handling(ctx: Context, call: Callable[[], Any]) -> dict:
    """The seed's except chain, reporting which branch caught the error."""
    errors = ctx.errors
    try:
        call()
        return {"caught": None}
    except errors.APIRequestFailedError as err:
        caught, error = "APIRequestFailedError", err
    except errors.APIAuthenticationError as err:
        caught, error = "APIAuthenticationError", err
    except errors.APIReachLimitError as err:
        caught, error = "APIReachLimitError", err
    except errors.APIInternalError as err:
        caught, error = "APIInternalError", err
    except errors.APIServerFlowExceedError as err:
        caught, error = "APIServerFlowExceedError", err
    except errors.APITimeoutError as err:
        caught, error = "APITimeoutError", err
    except Exception as err:  # noqa: BLE001 - the seed's last branch
        caught, error = f"other:{type(err).__name__}", err
    response = getattr(error, "response", None)
    return {
        "caught": caught,
        "status_code": getattr(error, "status_code", None),
        "code": response.json()["error"]["code"] if response is not None else None,
    }


def _chat(ctx: Context, text: str, **client_options: Any) -> Callable[[], Any]:
    client = ctx.client(**client_options)
    return lambda: client.chat.completions.create(
        model=client_options.pop("model", "glm-4"),
        messages=[{"role": "user", "content": text}],
    )


@example
def error_400(ctx: Context) -> dict:
    client = ctx.client()
    return seed_error_handling(
        ctx,
        lambda: client.chat.completions.create(
            model="glm-404", messages=[{"role": "user", "content": "Hello!"}]
        ),
    )


@example
def error_401(ctx: Context) -> dict:
    return seed_error_handling(ctx, _chat(ctx, "Hello!", api_key="bad-id.bad-secret"))


@example
def error_401_jwt_wrong_secret(ctx: Context) -> dict:
    return seed_error_handling(
        ctx,
        _chat(ctx, "Hello!", api_key="test-id.wrong-secret", disable_token_cache=False),
    )


@example
def error_429(ctx: Context) -> dict:
    return seed_error_handling(ctx, _chat(ctx, "Hello! [[sim:status=429]]"))


@example
def error_500(ctx: Context) -> dict:
    return seed_error_handling(ctx, _chat(ctx, "Hello! [[sim:status=500]]"))


@example
def error_503(ctx: Context) -> dict:
    return seed_error_handling(ctx, _chat(ctx, "Hello! [[sim:status=503]]"))


@example
def error_timeout(ctx: Context) -> dict:
    started = time.monotonic()
    outcome = seed_error_handling(
        ctx, _chat(ctx, "Hello! [[sim:stall_s=3]]", timeout=0.5)
    )
    return {**outcome, "seconds": round(time.monotonic() - started, 2)}


@example
def retry_after_failures(ctx: Context) -> dict:
    # The SDK retries 503s itself; the simulator fails this text twice, then answers.
    text = f"retry {time.time_ns()} [[sim:status=503,fail_times=2]]"
    client = ctx.client(max_retries=2)
    response = client.chat.completions.create(
        model="glm-4", messages=[{"role": "user", "content": text}]
    )
    return {"content": response.choices[0].message.content}


def drain(response: Any) -> dict:
    """Read a stream to its end; report how many chunks came and what the SDK raised."""
    seen = 0
    try:
        for _ in response:
            seen += 1
    except Exception as err:  # noqa: BLE001 - report whatever the SDK raises
        return {
            "raised": type(err).__name__,
            "chunks_before": seen,
            "error": getattr(err, "json_data", None),
        }
    return {"raised": None, "chunks_before": seen}


@example
def stream_error_event(ctx: Context) -> dict:
    response = ctx.client().chat.completions.create(
        model="glm-4",
        messages=[{"role": "user", "content": "[[sim:error_event=2]]"}],
        stream=True,
    )
    return drain(response)


@example
def stream_malformed(ctx: Context) -> dict:
    response = ctx.client().chat.completions.create(
        model="glm-4",
        messages=[{"role": "user", "content": "[[sim:malformed_after=2]]"}],
        stream=True,
    )
    return drain(response)


@example
def stream_sensitive(ctx: Context) -> dict:
    response = ctx.client().chat.completions.create(
        model="glm-4",
        messages=[{"role": "user", "content": "[[sim:sensitive]]"}],
        stream=True,
    )
    return {
        "finish_reasons": [chunk.choices[0].finish_reason for chunk in response][-1:]
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sdk", choices=["zhipuai", "zai"], required=True)
    parser.add_argument("--client", default="ZhipuAI")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    ctx = Context(args)
    results: dict[str, Any] = {}
    for name, function in EXAMPLES.items():
        if args.only and name not in args.only:
            continue
        try:
            results[name] = function(ctx)
        except Exception as err:  # noqa: BLE001 - one failing example must not hide the rest
            results[name] = {
                "exception": type(err).__name__,
                "message": str(err)[:500],
                "traceback": traceback.format_exc()[-2000:],
            }
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
