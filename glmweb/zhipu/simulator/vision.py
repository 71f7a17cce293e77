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

from .errors import PlatformError, platform_error

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


def describe_video(part: dict, *, zh: bool) -> str:
    video_url = part.get("video_url")
    url = video_url.get("url") if isinstance(video_url, dict) else video_url
    if not isinstance(url, str) or not url.strip():
        raise platform_error("1214", field="video_url")
    if zh:
        return f"视频链接 {url.strip()}（模拟器未下载）。"
    return f"Video URL {url.strip()} (not fetched by the simulator)."


def _corrupt(detail: str) -> PlatformError:
    return platform_error("1210", detail=f"image_url: {detail}")
