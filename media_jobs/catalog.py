"""The video models the form offers (settings.VIDEO_MODELS) and what each accepts."""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings

DEFAULT_SIZE = "1920x1080"
FPS_CHOICES = (30, 60)


class VideoModel(TypedDict):
    code: str
    label: str
    sizes: list[str]
    durations: list[int]


def video_models() -> list[VideoModel]:
    """Return the catalog, in the order the form lists it."""
    return list(settings.VIDEO_MODELS)


def find_model(code: str) -> VideoModel | None:
    """Return the catalog entry for `code`, or None."""
    return next((m for m in video_models() if m["code"] == code), None)


def default_model() -> str:
    """Return ZHIPUAI_VIDEO_MODEL when the catalog has it, else its first entry."""
    preferred = getattr(settings, "ZHIPUAI_VIDEO_MODEL", "")
    codes = [m["code"] for m in video_models()]
    return preferred if preferred in codes else codes[0]


def all_sizes() -> list[str]:
    """Return every size any model takes, largest area first, without repeats."""
    sizes = {size for m in video_models() for size in m["sizes"]}

    def area(size: str) -> int:
        width, _, height = size.partition("x")
        return int(width) * int(height)

    return sorted(sizes, key=lambda s: (-area(s), s))


def all_durations() -> list[int]:
    """Return every duration any model takes, shortest first."""
    return sorted({d for m in video_models() for d in m.get("durations", [])})
