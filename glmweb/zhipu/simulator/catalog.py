"""The models the simulator knows, and what each can do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "vision", "roleplay", "video", "assistant"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: Kind
    thinking: bool = False  # answers `thinking: {"type": "enabled"}` with reasoning


def _models(kind: Kind, names: str, *, thinking: bool = False) -> dict[str, ModelInfo]:
    return {name: ModelInfo(name, kind, thinking) for name in names.split()}


MODELS: dict[str, ModelInfo] = {
    **_models(
        "text",
        "glm-4 glm-4-plus glm-4-air glm-4-air-250414 glm-4-airx glm-4-flash "
        "glm-4-flash-250414 glm-4-flashx glm-4-long",
    ),
    # GLM-4.5 and newer can think (reasoning_content); see zhipu-api.md §8.
    **_models(
        "text",
        "glm-4.5 glm-4.5-air glm-4.5-x glm-4.5-airx glm-4.5-flash glm-4.6 glm-4.7 "
        "glm-4.7-flash glm-4.7-flashx glm-5 glm-5-turbo glm-5.1",
        thinking=True,
    ),
    **_models("vision", "glm-4v glm-4v-plus glm-4v-plus-0111 glm-4v-flash"),
    **_models(
        "vision",
        "glm-4.5v glm-4.6v glm-4.6v-flash glm-4.1v-thinking-flash glm-5v-turbo",
        thinking=True,
    ),
    **_models("roleplay", "charglm-3 charglm-4 emohaa"),
    **_models("video", "cogvideox cogvideox-2 cogvideox-3 cogvideox-flash"),
    **_models("assistant", "glm-4-assistant"),
}


# Per-request image limits where zhipu-api.md §8 states them; glm-4v-flash also takes
# no base64 (URLs only).
MAX_IMAGES = {"glm-4v-flash": 1, "glm-4v-plus": 5, "glm-4v-plus-0111": 5}
URL_ONLY = frozenset({"glm-4v-flash"})


def find_model(name: object) -> ModelInfo | None:
    """Return the model called `name`; model codes are case-insensitive upstream."""
    if not isinstance(name, str):
        return None
    return MODELS.get(name.strip().lower())
