"""Attachments through the websocket to the running simulator: each image and video
reaches the model (count, order, size, colour), history images stay within the
model's limits and the context budget, and the frame's ids are checked for owner,
state and model."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from PIL import Image

from chat import attachments, vision
from chat.models import Attachment, Message
from tests.chat.conftest import receive_until, send_frame

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media_root"),
]

VIDEO = (
    Path(__file__).resolve().parents[2] / "glmweb/zhipu/simulator/assets/video.mp4"
).read_bytes()
RED, BLUE, GREEN = (255, 0, 0, 255), (0, 0, 255, 255), (0, 255, 0, 255)


@pytest.fixture
def open_chat(ws_connect, make_conversation, user):
    """Return open_chat(model, language="en") -> a websocket on a new conversation of
    `user` on `model`, its opening frame read."""

    async def open_(model: str, language: str = "en"):
        conversation = await sync_to_async(make_conversation)(user, model=model)
        ws = await ws_connect(user, conversation.pk, language=language)
        await ws.receive_json_from()
        return ws

    return open_


def png(size, colour) -> bytes:
    # RGBA stays PNG through the normaliser, so the colour arrives exact.
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, format="PNG")
    return out.getvalue()


@sync_to_async
def attach(owner, data: bytes, name: str = "a.png") -> int:
    return attachments.store_upload(owner, io.BytesIO(data), name).pk


def send(text, ids, **extra):
    return send_frame(text, attachments=ids, **extra)


def parts_of(request: dict) -> list[list[str]]:
    """Return, per user message of a recorded request, the types of its parts."""
    return [
        [p["type"] for p in m["content"]] if isinstance(m["content"], list) else []
        for m in request["messages"]
        if m["role"] == "user"
    ]


def vision_calls(chat_requests, model="glm-4v-plus"):
    return [r for r in chat_requests() if r["model"] == model]


async def test_each_image_and_the_video_reach_the_model_in_order(
    chat_requests, open_chat, user
):
    red = await attach(user, png((64, 48), RED), "red.png")
    blue = await attach(user, png((30, 20), BLUE), "blue.png")
    clip = await attach(user, VIDEO, "clip.mp4")
    ws = await open_chat("glm-4v-plus")

    await ws.send_json_to(send("What is in these?", [blue, clip, red]))
    created, _ = await receive_until(ws, "message.created")
    end, _ = await receive_until(ws, "reply.end")

    shown = created["user"]["attachments"]
    assert [a["id"] for a in shown] == [blue, clip, red]
    assert [a["name"] for a in shown] == ["blue.png", "clip.mp4", "red.png"]
    reply = end["message"]
    assert reply["status"] == "complete", reply
    assert "This request carried 2 image(s) and 1 video(s)." in reply["content"]
    assert "[1] Video of 1838 bytes (MP4)." in reply["content"]
    assert "[2] Image size 30x20, dominant colour #0000ff." in reply["content"]
    assert "[3] Image size 64x48, dominant colour #ff0000." in reply["content"]
    assert reply["seen_attachments"] == [blue, clip, red]
    (request,) = vision_calls(chat_requests)
    content = request["messages"][-1]["content"]
    # The SDK's form: video first, images as bare base64 (no data: prefix), text last.
    assert [p["type"] for p in content] == [
        "video_url",
        "image_url",
        "image_url",
        "text",
    ]
    assert base64.b64decode(content[0]["video_url"]["url"]) == VIDEO
    assert not content[1]["image_url"]["url"].startswith("data:")
    assert content[3]["text"] == "What is in these?"
    saved = await sync_to_async(list)(
        Attachment.objects.filter(message__isnull=False).values_list("pk", flat=True)
    )
    assert sorted(saved) == sorted([blue, clip, red])


async def test_history_images_are_resent_only_within_the_models_limit(
    chat_requests, open_chat, user
):
    colours = [(i * 40, 10, 10, 255) for i in range(6)]
    first = [await attach(user, png((10 + i, 10), c)) for i, c in enumerate(colours)]
    ws = await open_chat("glm-4v-plus")
    await ws.send_json_to(send("three", first[:3]))
    await receive_until(ws, "reply.end")
    await ws.send_json_to(send("three more", first[3:]))
    end, _ = await receive_until(ws, "reply.end")

    second = vision_calls(chat_requests)[-1]
    # glm-4v-plus takes 5 images a request: the newest three, then the two latest
    # of the earlier message; its first image is left out.
    assert [parts.count("image_url") for parts in parts_of(second)] == [2, 3]
    assert end["message"]["seen_attachments"] == [first[1], first[2], *first[3:]]
    assert "[1] Image size 13x10" in end["message"]["content"]


async def test_history_images_go_with_old_rounds_the_budget_cannot_hold(
    chat_requests, glm_settings, open_chat, user
):
    glm_settings.GLMWEB_SUMMARY_EVERY_ROUNDS = 0
    ws = await open_chat("glm-4v-plus")
    await ws.send_json_to(send("old", [await attach(user, png((8, 8), RED))]))
    await receive_until(ws, "reply.end")
    # Room for one image and the text, not for the older round's image as well.
    glm_settings.GLMWEB_CONTEXT_MAX_TOKENS = vision.IMAGE_TOKENS + 400

    await ws.send_json_to(send("new", [await attach(user, png((9, 9), BLUE))]))
    end, _ = await receive_until(ws, "reply.end")

    request = vision_calls(chat_requests)[-1]
    assert sum(parts.count("image_url") for parts in parts_of(request)) == 1
    assert "Image size 9x9, dominant colour #0000ff" in end["message"]["content"]


async def test_another_users_attachment_is_refused_like_a_missing_one(
    open_chat, user, other_user
):
    theirs = await attach(other_user, png((5, 5), RED))
    ws = await open_chat("glm-4v-plus")

    await ws.send_json_to(send("steal", [theirs]))
    stolen = await ws.receive_json_from()
    await ws.send_json_to(send("missing", [theirs + 1000]))
    missing = await ws.receive_json_from()

    assert stolen["type"] == missing["type"] == "error"
    assert stolen["code"] == missing["code"] == "attachment_not_found"
    assert stolen["message"] == missing["message"]
    assert await sync_to_async(Message.objects.count)() == 0
    row = await sync_to_async(Attachment.objects.get)(pk=theirs)
    assert row.message_id is None


async def test_a_sent_attachment_cannot_be_sent_again(glm_settings, open_chat, user):
    image = await attach(user, png((5, 5), RED))
    ws = await open_chat("glm-4v-plus")
    await ws.send_json_to(send("once", [image]))
    await receive_until(ws, "reply.end")

    await ws.send_json_to(send("twice", [image]))
    refused, _ = await receive_until(ws, "error")

    assert refused["code"] == "attachment_not_found"


async def test_images_to_a_text_model_are_refused_and_nothing_is_saved(
    glm_settings, open_chat, user
):
    image = await attach(user, png((5, 5), RED))
    ws = await open_chat("glm-4-flash", language="zh-hans")

    await ws.send_json_to(send("看看", [image]))
    refused = await ws.receive_json_from()

    assert refused["code"] == "attachment_refused"
    assert "GLM-4-Flash" in refused["message"] and "无法" in refused["message"]
    assert await sync_to_async(Message.objects.count)() == 0

    # The same frame naming a vision model in its options goes through.
    await ws.send_json_to(send("看看", [image], options={"model": "glm-4v-plus"}))
    end, _ = await receive_until(ws, "reply.end")
    assert end["message"]["status"] == "complete"


async def test_more_images_than_the_model_takes_are_refused(open_chat, user, settings):
    settings.GLMWEB_PUBLIC_MEDIA_BASE_URL = "https://chat.example.com"
    ids = [await attach(user, png((5 + i, 5), RED)) for i in range(2)]
    ws = await open_chat("glm-4v-flash")

    await ws.send_json_to(send("two", ids))
    refused = await ws.receive_json_from()

    assert refused["code"] == "attachment_refused"
    assert "at most 1 images" in refused["message"]


async def test_a_url_only_model_needs_a_public_media_address(
    chat_requests, open_chat, user, settings
):
    image = await attach(user, png((7, 7), GREEN))
    ws = await open_chat("glm-4v-flash")
    await ws.send_json_to(send("look", [image]))
    refused = await ws.receive_json_from()
    assert refused["code"] == "attachment_refused"

    settings.GLMWEB_PUBLIC_MEDIA_BASE_URL = "https://chat.example.com"
    await ws.send_json_to(send("look", [image]))
    end, _ = await receive_until(ws, "reply.end")

    (request,) = vision_calls(chat_requests, "glm-4v-flash")
    url = request["messages"][-1]["content"][0]["image_url"]["url"]
    assert url.startswith("https://chat.example.com/attachments/public/")
    assert "not fetched by the simulator" in end["message"]["content"]
    anonymous = Client()
    path = url.removeprefix("https://chat.example.com")
    served = await sync_to_async(anonymous.get)(path)
    assert served.status_code == 200 and served["X-Content-Type-Options"] == "nosniff"
    forged = await sync_to_async(anonymous.get)(path[:-3] + "xx/")
    assert forged.status_code == 404


async def test_a_platform_refusal_of_an_image_shows_the_platforms_reason(
    glm_settings, open_chat, user, settings
):
    # Our catalog wrongly believing glm-4v-flash takes base64: the platform says no.
    settings.CHAT_MODELS = [
        {
            "code": "glm-4v-flash",
            "label": "GLM-4V-Flash",
            "context": 8000,
            "capabilities": ["text", "vision"],
            "vision": {"images": 1, "base64": True},
        }
    ]
    image = await attach(user, png((7, 7), GREEN))
    ws = await open_chat("glm-4v-flash")

    await ws.send_json_to(send("look", [image]))
    end, _ = await receive_until(ws, "reply.end")

    error = end["message"]["error"]
    assert end["message"]["status"] == "error"
    assert error["code"] == "bad_request" and "base64" in error["detail"]
