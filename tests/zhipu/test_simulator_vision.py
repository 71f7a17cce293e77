"""Vision requests: the reply proves the image arrived (pixel size and dominant colour,
computed by the simulator with Pillow), and broken or misplaced images are refused."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image, ImageDraw


def png_base64(size: tuple[int, int], colour: str, *, stripe: str | None = None) -> str:
    image = Image.new("RGB", size, colour)
    if stripe:
        # A quarter of the image in another colour: the dominant colour must still win.
        ImageDraw.Draw(image).rectangle((0, 0, size[0] // 4 - 1, size[1]), fill=stripe)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def ask(
    api: httpx.Client,
    url: str,
    *,
    model: str = "glm-4v",
    text: str = "What's in this image?",
):
    return api.post(
        "chat/completions",
        json={
            "model": model,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": text},
                        {"type": "image_url", "image_url": {"url": url}},
                    ],
                }
            ],
        },
    )


def content(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def test_vision_reports_size_and_colour_of_bare_base64(api):
    reply = content(ask(api, png_base64((64, 32), "#ff0000")))

    assert "Image size 64x32, dominant colour #ff0000." in reply


def test_vision_reports_the_dominant_of_two_colours(api):
    reply = content(
        ask(api, png_base64((40, 20), "#0000ff", stripe="#00ff00"), model="glm-4v-plus")
    )

    assert "Image size 40x20, dominant colour #0000ff." in reply


def test_vision_accepts_a_full_data_url_and_answers_in_chinese(api):
    url = "data:image/png;base64," + png_base64((64, 32), "#ff0000")

    reply = content(ask(api, url, model="glm-4.5v", text="这张图片里有什么？"))

    assert "图片尺寸 64x32，主色 #ff0000" in reply


def test_vision_reads_jpeg(api):
    buffer = io.BytesIO()
    Image.new("RGB", (30, 50), "#808080").save(buffer, format="JPEG", quality=95)

    reply = content(ask(api, base64.b64encode(buffer.getvalue()).decode()))

    assert "Image size 30x50" in reply


def test_vision_describes_an_http_url_without_fetching_it(api):
    reply = content(ask(api, "https://example.invalid/cat.png", model="glm-4v-flash"))

    assert (
        "Image URL https://example.invalid/cat.png (not fetched by the simulator)."
        in reply
    )


@pytest.mark.parametrize(
    "url",
    [
        "this is not base64!!",
        base64.b64encode(b"plain text, not an image").decode(),
        "data:image/png;base64,%%%%",
    ],
)
def test_vision_corrupt_image_is_rejected_with_1210(api, url):
    response = ask(api, url)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "1210"


def test_image_sent_to_text_model_is_rejected_with_1214(api):
    response = ask(api, png_base64((8, 8), "#ffffff"), model="glm-4")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "1214",
        "message": "messages.content.image_url参数非法。请检查文档。",
    }


def test_vision_request_keeps_the_image_for_inspection(api, simulator):
    image = png_base64((4, 4), "#123456")

    content(ask(api, image))

    sent = simulator.last_request("/chat/completions")["json"]
    assert sent["messages"][0]["content"][1]["image_url"]["url"] == image
