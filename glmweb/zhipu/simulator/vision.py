"""Image parts: prove an image arrived by stating its pixel size and dominant colour.

An image part's `url` is an http(s) URL (never fetched: the simulator has no network),
a `data:` URL, or bare base64 (what the SDKs send after cutting the data-URL prefix).
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import cast

from PIL import Image, UnidentifiedImageError

from .catalog import MAX_IMAGES, URL_ONLY
from .errors import PlatformError, platform_error

# The platform's image limits (zhipu-api.md §2.2).
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_SIDE = 6000

# Enough to find the most common colour of a flat or banded test image without
# counting millions of pixels of a big photo.
SAMPLE_SIDE = 128


@dataclass(frozen=True)
class ImageFacts:
    width: int
    height: int
    colour: str  # "#rrggbb"


def image_url_value(part: dict) -> str:
    """Return the `url` of an image_url part; raise 1214 when it has none."""
    image_url = part.get("image_url")
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str) or not url.strip():
        raise platform_error("1214", field="image_url")
    return url.strip()


def is_remote(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


def analyse_image(url: str) -> ImageFacts:
    """Decode a data URL or bare base64 image; raise 1210 if it is not an image."""
    data = url
    if url[:5].lower() == "data:":
        header, _, data = url.partition(",")
        if ";base64" not in header.lower():
            raise _corrupt("a data: URL without ;base64")
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _corrupt("not base64") from None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            width, height = image.size
            image.draft("RGB", (SAMPLE_SIDE, SAMPLE_SIDE))  # JPEG: decode small
            sample = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise _corrupt("not a readable image") from None
    # NEAREST keeps real pixel colours (no blending), so the mode is exact.
    sample.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE), Image.Resampling.NEAREST)
    colours = sample.getcolors(SAMPLE_SIDE * SAMPLE_SIDE) or [(1, (0, 0, 0))]
    # An RGB image: every colour is a (red, green, blue) tuple.
    _, (red, green, blue) = cast(
        "tuple[int, tuple[int, int, int]]", max(colours, key=lambda item: item[0])
    )
    return ImageFacts(width, height, f"#{red:02x}{green:02x}{blue:02x}")


def describe_image(url: str, *, zh: bool) -> str:
    """Return the sentence a vision reply uses for one image."""
    if is_remote(url):
        if zh:
            return f"图片链接 {url}（模拟器未下载）。"
        return f"Image URL {url} (not fetched by the simulator)."
    facts = analyse_image(url)
    if zh:
        return f"图片尺寸 {facts.width}x{facts.height}，主色 {facts.colour}。"
    return f"Image size {facts.width}x{facts.height}, dominant colour {facts.colour}."


def _decoded(url: str) -> bytes:
    data = url.partition(",")[2] if url[:5].lower() == "data:" else url
    try:
        return base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _corrupt("not base64") from None


def check_image_limits(model: str, url: str, number: int) -> None:
    """Raise 1210 as the platform does for an image beyond its limits: too many for
    the model, base64 to a URL-only model, over 5 MB or 6000 px a side."""
    name = model.lower()
    limit = MAX_IMAGES.get(name)
    if limit is not None and number > limit:
        raise _corrupt(f"{name} 最多支持 {limit} 张图片")
    if is_remote(url):
        return
    if name in URL_ONLY:
        raise _corrupt(f"{name} 不支持 base64 图片，请使用图片链接")
    raw = _decoded(url)
    if len(raw) > MAX_IMAGE_BYTES:
        raise _corrupt("图片大小超过 5M")
    facts = analyse_image(url)
    if max(facts.width, facts.height) > MAX_IMAGE_SIDE:
        raise _corrupt("图片像素超过 6000x6000")


def count_note(images: int, videos: int, *, zh: bool) -> str:
    """Return the sentence counting the request's images and videos."""
    if zh:
        return f"本次请求共收到 {images} 张图片、{videos} 个视频。"
    return f"This request carried {images} image(s) and {videos} video(s)."


def describe_video(part: dict, *, zh: bool) -> str:
    """Return the sentence for a video part: a URL (not fetched), or the size and
    container of a base64 video; raise 1210 if that is not an MP4/MOV."""
    video_url = part.get("video_url")
    url = video_url.get("url") if isinstance(video_url, dict) else video_url
    if not isinstance(url, str) or not url.strip():
        raise platform_error("1214", field="video_url")
    url = url.strip()
    if is_remote(url):
        if zh:
            return f"视频链接 {url}（模拟器未下载）。"
        return f"Video URL {url} (not fetched by the simulator)."
    raw = _decoded(url)
    if raw[4:8] != b"ftyp":
        raise platform_error("1210", detail="video_url: not an MP4/MOV video")
    if zh:
        return f"视频 {len(raw)} 字节（MP4）。"
    return f"Video of {len(raw)} bytes (MP4)."


def _corrupt(detail: str) -> PlatformError:
    return platform_error("1210", detail=f"image_url: {detail}")
