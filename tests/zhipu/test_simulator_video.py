"""Video jobs: validation like the platform, PROCESSING -> SUCCESS after the configured
delay (2 s in the test fixture), and media that really downloads."""

from __future__ import annotations

import base64
import io
import time

import httpx
import pytest
from PIL import Image

VIDEO = {
    "model": "cogvideox-2",
    "prompt": "A beautiful sunset beach scene",
    "image_url": None,
    "quality": "quality",
    "with_audio": True,
    "size": "1920x1080",
    "duration": None,
    "fps": 30,
    "request_id": None,
    "user_id": "user_12345",
}


def wait_for(api: httpx.Client, task_id: str, timeout: float = 6.0) -> list[dict]:
    """Poll async-result until the job leaves PROCESSING; return every answer."""
    answers = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"async-result/{task_id}")
        assert response.status_code == 200, response.text
        answers.append(response.json())
        if answers[-1]["task_status"] != "PROCESSING":
            return answers
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} still PROCESSING after {timeout} s")


def test_video_job_goes_from_processing_to_success(api, simulator):
    started = time.monotonic()
    submitted = api.post("videos/generations", json=VIDEO).json()

    assert set(submitted) == {"model", "id", "request_id", "task_status"}
    assert (
        submitted["model"] == "cogvideox-2" and submitted["task_status"] == "PROCESSING"
    )
    assert len(submitted["request_id"]) == 30
    answers = wait_for(api, submitted["id"])

    assert answers[0] == {**submitted, "task_status": "PROCESSING"}
    assert time.monotonic() - started >= 1.9
    done = answers[-1]
    assert done["task_status"] == "SUCCESS" and done["id"] == submitted["id"]
    root = simulator.root
    assert done["video_result"] == [
        {
            "url": f"{root}/_sim/media/{submitted['id']}.mp4",
            "cover_image_url": f"{root}/_sim/media/{submitted['id']}.png",
        }
    ]


@pytest.fixture
def finished_video(api) -> dict:
    submitted = api.post(
        "videos/generations",
        json={"model": "cogvideox-3", "prompt": "cat [[sim:ready_after=0]]"},
    ).json()
    return wait_for(api, submitted["id"])[-1]["video_result"][0]


def test_video_mp4_downloads_as_a_real_h264_file(finished_video):
    response = httpx.get(finished_video["url"], timeout=10)

    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(response.content) > 500
    assert response.content[4:8] == b"ftyp"
    assert b"avc1" in response.content  # H.264 sample entry


def test_video_cover_downloads_as_a_png(finished_video):
    response = httpx.get(finished_video["cover_image_url"], timeout=10)

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "PNG" and image.size == (64, 64)


def test_video_mp4_answers_a_range_request(finished_video):
    response = httpx.get(
        finished_video["url"], headers={"Range": "bytes=0-7"}, timeout=10
    )

    assert response.status_code == 206
    assert response.content[4:8] == b"ftyp" and len(response.content) == 8
    assert response.headers["content-range"].startswith("bytes 0-7/")


def test_media_of_unfinished_or_unknown_job_is_404(api, simulator):
    pending = api.post(
        "videos/generations", json={"model": "cogvideox", "prompt": "slow"}
    ).json()

    assert (
        httpx.get(f"{simulator.root}/_sim/media/{pending['id']}.mp4").status_code == 404
    )
    assert httpx.get(f"{simulator.root}/_sim/media/123.mp4").status_code == 404


def test_video_fail_directive_ends_the_job_failed(api):
    submitted = api.post(
        "videos/generations",
        json={
            "model": "cogvideox-flash",
            "prompt": "[[sim:video_fail,ready_after=0.2]]",
        },
    ).json()

    done = wait_for(api, submitted["id"])[-1]

    assert done["task_status"] == "FAIL" and "video_result" not in done


def test_video_echoes_caller_request_id(api):
    submitted = api.post(
        "videos/generations", json={**VIDEO, "request_id": "video-req-42"}
    ).json()

    assert submitted["request_id"] == "video-req-42"


def test_video_accepts_an_image_instead_of_a_prompt(api):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "#00ff00").save(buffer, format="PNG")

    image = base64.b64encode(buffer.getvalue()).decode()
    response = api.post(
        "videos/generations", json={**VIDEO, "prompt": None, "image_url": image}
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"size": "1234x567"}, "1214"),
        ({"model": "cogvideox-3", "size": "720x480"}, "1214"),  # a cogvideox-2 size
        ({"fps": 24}, "1214"),
        ({"quality": "best"}, "1214"),
        ({"duration": 7}, "1214"),
        ({"prompt": "x" * 513}, "1214"),
        ({"prompt": None}, "1213"),
        ({"prompt": None, "image_url": "!!not base64!!"}, "1210"),
        ({"model": "cogvideox-9"}, "1211"),
        ({"model": "glm-4"}, "1212"),
    ],
)
def test_video_rejects_invalid_fields_like_the_platform(api, change, code):
    response = api.post("videos/generations", json={**VIDEO, **change})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_video_status_directive_fails_the_submission(api):
    response = api.post(
        "videos/generations", json={**VIDEO, "prompt": "[[sim:status=429]]"}
    )

    assert response.status_code == 429 and response.json()["error"]["code"] == "1302"


def test_async_result_of_unknown_task_is_400_with_1214(api):
    response = api.get("async-result/does-not-exist")

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "1214"


def test_async_result_needs_authorization(simulator):
    response = httpx.get(simulator.base_url + "async-result/anything", timeout=10)

    assert response.status_code == 401 and response.json()["error"]["code"] == "1001"
