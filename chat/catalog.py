"""The chat model catalog: which models the picker offers and what each can do.

Read from `settings.CHAT_MODELS` (env `GLMWEB_CHAT_MODELS`) every time it is asked, so
tests and deployments can swap it (the parsed list is kept while the setting is the
same object: replacing it, as override_settings does, parses it again). Each entry
is `{"code", "label", "context", "max_output"?, "capabilities", "vision"?}`;
capabilities are drawn from CAPABILITIES.
A vision model's `vision` is `{"images", "base64", "video"}` (VisionLimits: images per
request, whether the platform takes base64 or only URLs, whether a short video may
be attached); a vision model without it gets DEFAULT_VISION.

A role-play model (CharGLM, Emohaa) stays in the catalog but is not offered for plain
chat: the platform refuses it a request without `meta` (the character), and plain
chat has no character to send. chat_models() is what the picker offers everywhere;
roleplay_models() are added to it only in a conversation with a character (the rule
is chat.conversation_settings').
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CAPABILITIES = ("text", "vision", "roleplay", "web_search", "thinking")
# The platform's sampling ranges (docs/simulator.md mirrors them): temperature in
# [0, 1], top_p in (0, 1], max_tokens at least 1 and at most the model's max_output.
TEMPERATURE_RANGE = (0.0, 1.0)
TOP_P_RANGE = (0.0, 1.0)  # the lower bound itself is excluded
# When an entry names no max_output: the reply limit of most GLM-4 models.
DEFAULT_MAX_OUTPUT = 4095
# A model outside the catalog (an old conversation's, say) gets this context length.
FALLBACK_CONTEXT = 8000


@dataclass(frozen=True, slots=True)
class VisionLimits:
    """What a vision model takes in one request (zhipu-api.md §2.2 and §8)."""

    images: int  # images per request, all messages together
    base64: bool  # False: URLs only (glm-4v-flash), so a public media URL is needed
    video: bool  # one short video per request

    def usable(self) -> bool:
        """Return whether uploads can reach the model: base64, or a public media URL
        configured (settings.GLMWEB_PUBLIC_MEDIA_BASE_URL)."""
        return self.base64 or bool(settings.GLMWEB_PUBLIC_MEDIA_BASE_URL)


# The legacy GLM-4V-Plus limits: a vision entry that names none gets these.
DEFAULT_VISION = VisionLimits(images=5, base64=True, video=False)


@dataclass(frozen=True, slots=True)
class ChatModel:
    code: str
    label: str
    context: int
    max_output: int
    capabilities: tuple[str, ...]
    vision: VisionLimits | None = None

    def supports(self, capability: str) -> bool:
        """Return whether the model has `capability` (one of CAPABILITIES)."""
        return capability in self.capabilities

    @property
    def needs_meta(self) -> bool:
        """Whether every request needs `meta` (a character): the role-play models."""
        return self.supports("roleplay")


class VisionDict(TypedDict):
    images: int
    base64: bool
    video: bool
    # Whether the page may offer attaching: base64, or a public media URL configured.
    attachments: bool


class ChatModelDict(TypedDict):
    code: str
    label: str
    context: int
    max_output: int
    capabilities: list[str]
    vision: VisionDict | None


def _vision(
    entry: dict[str, Any], capabilities: tuple[str, ...]
) -> VisionLimits | None:
    if "vision" not in capabilities:
        return None
    raw = entry.get("vision")
    if raw is None:
        return DEFAULT_VISION
    if not isinstance(raw, dict):
        raise ImproperlyConfigured(
            f"CHAT_MODELS {entry['code']!r}: vision not an object"
        )
    return VisionLimits(
        images=max(1, int(raw.get("images", DEFAULT_VISION.images))),
        base64=bool(raw.get("base64", True)),
        video=bool(raw.get("video", False)),
    )


def _parse(entry: Any) -> ChatModel:
    if not isinstance(entry, dict) or not entry.get("code"):
        raise ImproperlyConfigured(f"CHAT_MODELS entry without a code: {entry!r}")
    capabilities = tuple(entry.get("capabilities") or ("text",))
    unknown = set(capabilities) - set(CAPABILITIES)
    if unknown:
        raise ImproperlyConfigured(
            f"CHAT_MODELS entry {entry['code']!r} has unknown capabilities {unknown}"
        )
    context = int(entry.get("context") or FALLBACK_CONTEXT)
    max_output = int(entry.get("max_output") or min(DEFAULT_MAX_OUTPUT, context))
    return ChatModel(
        code=str(entry["code"]),
        label=str(entry.get("label") or entry["code"]),
        context=context,
        max_output=max_output,
        capabilities=capabilities,
        vision=_vision(entry, capabilities),
    )


# (settings.CHAT_MODELS as last parsed, its models, them by lower-case code). Accepting
# one message asked for the catalog about 65 times, and parsing it each time was a
# tenth of that message's CPU (benchmarks/accept_path.py).
_parsed: tuple[object, tuple[ChatModel, ...], dict[str, ChatModel]] | None = None


def _models() -> tuple[tuple[ChatModel, ...], dict[str, ChatModel]]:
    global _parsed
    raw = settings.CHAT_MODELS
    parsed = _parsed
    if parsed is None or parsed[0] is not raw:
        models = tuple(_parse(entry) for entry in raw)
        if not models:
            raise ImproperlyConfigured("CHAT_MODELS is empty")
        by_code: dict[str, ChatModel] = {}
        for model in models:
            by_code.setdefault(model.code.lower(), model)
        parsed = _parsed = (raw, models, by_code)
    return parsed[1], parsed[2]


def list_models() -> list[ChatModel]:
    """Return the catalog's models in the configured order.

    Raises ImproperlyConfigured when an entry is malformed or the catalog is empty.
    """
    return list(_models()[0])


def chat_models() -> list[ChatModel]:
    """Return the models offered for plain chat: the catalog less those needing `meta`.

    Raises ImproperlyConfigured when that leaves none.
    """
    models = [model for model in list_models() if not model.needs_meta]
    if not models:
        raise ImproperlyConfigured("CHAT_MODELS offers no model for plain chat")
    return models


def roleplay_models() -> list[ChatModel]:
    """Return the models that take `meta`: offered only with a character."""
    return [model for model in list_models() if model.needs_meta]


def get_model(code: str) -> ChatModel | None:
    """Return the catalog entry for `code` (case-insensitive), or None."""
    return _models()[1].get(code.lower())


def describe(code: str) -> ChatModel:
    """Return the entry for `code`, or a text-only stand-in for unknown models.

    Conversations keep their model after it leaves the catalog; they still need a
    context length to budget their history.
    """
    model = get_model(code)
    if model is not None:
        return model
    return ChatModel(
        code=code,
        label=code,
        context=FALLBACK_CONTEXT,
        max_output=DEFAULT_MAX_OUTPUT,
        capabilities=("text",),
    )


def default_model() -> str:
    """Return the model new conversations get: ZHIPUAI_CHAT_MODEL if offered for plain
    chat, else the first model that is."""
    preferred = get_model(settings.ZHIPUAI_CHAT_MODEL)
    if preferred is not None and not preferred.needs_meta:
        return preferred.code
    return chat_models()[0].code


def context_length(code: str) -> int:
    """Return the context length in tokens of `code` (FALLBACK_CONTEXT if unknown)."""
    return describe(code).context


def model_dict(model: ChatModel) -> ChatModelDict:
    """Return a model as the API and the page send it."""
    return {
        "code": model.code,
        "label": model.label,
        "context": model.context,
        "max_output": model.max_output,
        "capabilities": list(model.capabilities),
        "vision": None
        if model.vision is None
        else {
            "images": model.vision.images,
            "base64": model.vision.base64,
            "video": model.vision.video,
            "attachments": model.vision.usable(),
        },
    }


def catalog() -> list[ChatModelDict]:
    """Return the models offered for plain chat (the picker's list) as JSON-ready
    dicts; role-play models are offered apart (roleplay_models), with a character."""
    return [model_dict(model) for model in chat_models()]
