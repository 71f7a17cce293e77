"""POST videos/generations, validated like the platform, and the media it "renders".

Every finished job serves the same tiny real H.264 MP4 and PNG cover (assets/), so a
client can prove the whole download path works.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import find_model
from .directives import request_directives
from .errors import platform_error
from .http import (
    Request,
    Send,
    content_length,
    hang_up,
    send_bytes,
    send_json,
    start_response,
)
from .ids import new_request_id, new_task_id
from .jobs import Job
from .vision import analyse_image, is_remote

if TYPE_CHECKING:
    from .app import SimulatorState

ASSETS = Path(__file__).resolve().parent / "assets"
MEDIA = {
    ".mp4": (b"video/mp4", (ASSETS / "video.mp4").read_bytes()),
    ".png": (b"image/png", (ASSETS / "cover.png").read_bytes()),
}
PROMPT_MAX_CHARS = 512
SIZES_V3 = {
    "1280x720",
    "720x1280",
    "1024x1024",
    "1920x1080",
    "1080x1920",
    "2048x1080",
    "3840x2160",
}
SIZES_V2 = {
    "720x480",
    "1024x1024",
    "1280x960",
    "960x1280",
    "1920x1080",
    "1080x1920",
    "2048x1080",
    "3840x2160",
}
# Legacy cogvideox is not in the current size tables; it takes either list.
SIZES = {
    "cogvideox-3": SIZES_V3,
    "cogvideox-2": SIZES_V2,
    "cogvideox-flash": SIZES_V2,
    "cogvideox": SIZES_V2 | SIZES_V3,
}
_ACCEPT_RANGES = (b"accept-ranges", b"bytes")
DRIP_PIECES = 20
CHOICES: dict[str, set[Any]] = {
    "quality": {"speed", "quality"},
    "fps": {30, 60},
    "duration": {5, 10},
}


async def create_generation(
    request: Request, send: Send, state: SimulatorState
) -> None:
    """Queue a video job; it stays PROCESSING for the configured seconds."""
    body = request.json_object()
    prompt = body.get("prompt")
    directives = request_directives(
        prompt if isinstance(prompt, str) else "", state.failures, request.path
    )
    model_name = body.get("model")
    if not model_name:
        raise platform_error("1213", field="model")
    model = find_model(model_name)
    if model is None:
        raise platform_error("1211")
    if model.kind != "video":
        raise platform_error("1212", field="videos/generations")
    _check_fields(body, model.name)
    request_id = body.get("request_id")
    task_id = new_task_id()
    request_id = str(request_id) if request_id not in (None, "") else new_request_id()
    delay = directives.get("ready_after", state.config.video_seconds)
    state.jobs.add(
        Job(
            task_id,
            "video",
            str(model_name),
            request_id,
            time.monotonic() + delay,
            failed=bool(directives.get("video_fail")),
            media_seconds=directives.get("media_drip_s", 0.0),
        )
    )
    if directives.get("hang_up"):
        await hang_up(send)  # the task exists; its id never reaches the client
    await send_json(
        send,
        {
            "model": str(model_name),
            "id": task_id,
            "request_id": request_id,
            "task_status": "PROCESSING",
        },
    )


def _check_fields(body: dict[str, Any], model: str) -> None:
    prompt, image_url = body.get("prompt"), body.get("image_url")
    if prompt in (None, "") and image_url in (None, "", []):
        raise platform_error("1213", field="prompt")
    if prompt is not None and (
        not isinstance(prompt, str) or len(prompt) > PROMPT_MAX_CHARS
    ):
        raise platform_error("1214", field="prompt")
    for image in image_url if isinstance(image_url, list) else [image_url]:
        if image is None:
            continue
        if not isinstance(image, str) or not image.strip():
            raise platform_error("1214", field="image_url")
        if not is_remote(image.strip()):
            analyse_image(image.strip())  # raises 1210 when it is not an image
    size = body.get("size")
    if size is not None and size not in SIZES[model]:
        raise platform_error("1214", field="size")
    for name, allowed in CHOICES.items():
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or value not in allowed):
            raise platform_error("1214", field=name)
    with_audio = body.get("with_audio")
    if with_audio is not None and not isinstance(with_audio, bool):
        raise platform_error("1214", field="with_audio")


async def serve_media(request: Request, send: Send, state: SimulatorState) -> None:
    """GET /_sim/media/<task id>.mp4|.png: the files a finished job points at."""
    name = request.path.removeprefix("_sim/media/")
    stem, dot, extension = name.rpartition(".")
    job = state.jobs.get(stem)
    media = MEDIA.get(dot + extension)
    if (
        media is None
        or job is None
        or job.kind != "video"
        or not job.done
        or job.failed
    ):
        raise platform_error("1222", status=404)
    content_type, data = media
    status, headers, payload = _byte_range(request.headers.get("range"), data)
    if job.media_seconds and dot + extension == ".mp4":
        await _drip(send, status, payload, content_type, job.media_seconds)
        return
    await send_bytes(send, status, payload, content_type, (_ACCEPT_RANGES, *headers))


async def _drip(
    send: Send, status: int, payload: bytes, content_type: bytes, seconds: float
) -> None:
    """Send `payload` in DRIP_PIECES writes spread evenly over `seconds`: a slow file
    host whose bytes keep flowing (no read ever waits long)."""
    await start_response(send, status, content_type, content_length(len(payload)))
    size = -(-len(payload) // DRIP_PIECES)
    for start in range(0, len(payload), size):
        await asyncio.sleep(seconds / DRIP_PIECES)
        piece = payload[start : start + size]
        more = start + size < len(payload)
        await send({"type": "http.response.body", "body": piece, "more_body": more})


def _byte_range(
    header: str | None, data: bytes
) -> tuple[int, tuple[tuple[bytes, bytes], ...], bytes]:
    """Answer a single `bytes=a-b` range (browsers' <video> asks for one)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return 200, (), data
    first, _, last = header[6:].partition("-")
    try:
        if first:
            start, end = int(first), int(last) if last else len(data) - 1
        else:
            start, end = len(data) - int(last), len(data) - 1
    except ValueError:
        return 200, (), data
    end = min(end, len(data) - 1)
    if start < 0 or start > end:
        return 416, ((b"content-range", f"bytes */{len(data)}".encode()),), b""
    content_range = f"bytes {start}-{end}/{len(data)}".encode()
    return 206, ((b"content-range", content_range),), data[start : end + 1]
