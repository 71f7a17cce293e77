"""The platform's ready-made agents (glm-4-assistant): which there are, and starting a
conversation with one.

An agent conversation is an ordinary Conversation with `assistant_id` set: its
replies go through chat.replies.assistant_runner instead of chat completions, and the
platform keeps the agent's own memory under `assistant_conversation_id`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.cache import cache

from chat.models import Conversation
from glmweb import zhipu

# What agent conversations are recorded under as their model (the platform's name).
ASSISTANT_MODEL = "glm-4-assistant"
# The listing changes rarely and costs a platform call: every page view within this
# many seconds shares one answer.
LISTING_SECONDS = 300
_CACHE_KEY = "chat:assistants:listing"


def listing() -> list[dict[str, Any]]:
    """Return the platform's agents as dicts (cached), or raise zhipu.GLMError."""
    found = cache.get(_CACHE_KEY)
    if found is None:
        found = [asdict(info) for info in zhipu.list_assistants()]
        cache.set(_CACHE_KEY, found, LISTING_SECONDS)
    return found


def find(assistant_id: str) -> dict[str, Any] | None:
    """Return the listed agent `assistant_id`, or None when the platform has none."""
    return next((a for a in listing() if a["assistant_id"] == assistant_id), None)


def start_conversation(owner: Any, assistant: dict[str, Any]) -> Conversation:
    """Create `owner`'s conversation with the listed agent `assistant`."""
    return Conversation.objects.create(
        owner=owner,
        title=assistant.get("name") or assistant["assistant_id"],
        title_is_auto=False,
        model=ASSISTANT_MODEL,
        assistant_id=assistant["assistant_id"],
    )


def tool_call_dict(call: zhipu.AssistantToolCall) -> dict[str, Any]:
    """Return one tool call as it is saved on the Message and sent to the page."""
    return {
        "type": call.type,
        "input": call.input,
        "outputs": [asdict(output) for output in call.outputs],
    }
