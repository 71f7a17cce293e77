"""Value types of the GLM client: request shapes (TypedDicts) and results (dataclasses).

Callers build requests from the TypedDicts and get these dataclasses back; no upstream
JSON crosses the package boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NotRequired, TypedDict

# --- Requests -------------------------------------------------------------------------


class TextPart(TypedDict):
    type: Literal["text"]
    text: str


class ImageURL(TypedDict):
    url: str  # http(s) URL, bare base64, or a data:image/...;base64, URL


class ImagePart(TypedDict):
    type: Literal["image_url"]
    image_url: ImageURL


class Message(TypedDict):
    """One chat message; `content` is text or, for vision models, a list of parts."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[TextPart | ImagePart]
    reasoning_content: NotRequired[str]
    tool_call_id: NotRequired[str]


class CharacterMeta(TypedDict):
    """The role-play card charglm/emohaa models take as `meta`."""

    user_info: str
    bot_info: str
    bot_name: str
    user_name: str


class WebSearchOptions(TypedDict, total=False):
    """Options of the web_search tool; `enable` and `search_result` default to True."""

    enable: bool
    search_engine: str
    search_query: str
    search_result: bool
    require_search: bool
    count: int
    search_domain_filter: str
    search_recency_filter: str
    content_size: str
    result_sequence: Literal["before", "after"]
    search_prompt: str


# --- Results -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One web page the web_search tool used; `refer` is its citation tag ("ref_1")."""

    title: str = ""
    link: str = ""
    content: str = ""
    media: str = ""
    icon: str = ""
    refer: str = ""
    publish_date: str = ""


@dataclass(frozen=True, slots=True)
class ChatCompletion:
    """A whole (non-streamed) chat reply."""

    content: str
    reasoning: str
    finish_reason: str | None
    usage: Usage | None
    web_search: tuple[SearchResult, ...]
    request_id: str | None
    model: str | None = None

    @property
    def blocked(self) -> bool:
        """Return whether the platform's content filter stopped the reply."""
        return self.finish_reason == "sensitive"


@dataclass(slots=True)
class ChatDelta:
    """One piece of a streamed chat reply.

    `content` and `reasoning` are the new text only. `finish_reason` is set on the
    last piece ("stop", "length", "sensitive" when the content filter stopped the
    reply, ...), usually together with `usage`. `web_search` is set on the piece that
    carried the search results. Not frozen: this is built per token, and a frozen
    dataclass's __init__ costs about four times as much (0.5 us against 0.12 us).
    """

    content: str = ""
    reasoning: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    web_search: tuple[SearchResult, ...] | None = None
    request_id: str | None = None


class VideoStatus(StrEnum):
    PROCESSING = "processing"
    SUCCESS = "success"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class VideoTask:
    """A submitted video generation: poll `task_id` with get_video_result()."""

    task_id: str
    request_id: str | None
    status: VideoStatus
    model: str | None = None


@dataclass(frozen=True, slots=True)
class VideoResult:
    """The state of a video task; the URLs are set once `status` is SUCCESS."""

    status: VideoStatus
    video_url: str | None = None
    cover_url: str | None = None
    request_id: str | None = None
    task_id: str | None = None
    model: str | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        """Return whether the task finished, successfully or not."""
        return self.status is not VideoStatus.PROCESSING


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """One output of an assistant's tool: a web page, logs, an image, or an error."""

    title: str = ""
    link: str = ""
    content: str = ""
    logs: str = ""
    image: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class AssistantToolCall:
    """A tool the assistant ran (web_browser, code_interpreter, drawing_tool, ...)."""

    type: str
    input: str = ""
    outputs: tuple[ToolOutput, ...] = ()


@dataclass(frozen=True, slots=True)
class AssistantReply:
    """A whole reply of a glm-4-assistant agent."""

    content: str
    conversation_id: str | None
    assistant_id: str | None
    status: str | None
    finish_reason: str | None
    tool_calls: tuple[AssistantToolCall, ...]
    usage: Usage | None
    request_id: str | None


@dataclass(slots=True)
class AssistantDelta:
    """One piece of a streamed assistant reply (new text and/or tool calls)."""

    content: str = ""
    tool_calls: tuple[AssistantToolCall, ...] = ()
    finish_reason: str | None = None
    status: str | None = None
    conversation_id: str | None = None
    usage: Usage | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class AssistantInfo:
    """One agent from assistant/list."""

    assistant_id: str
    name: str = ""
    description: str = ""
    avatar: str = ""
    status: str = ""
    tools: tuple[str, ...] = ()
    starter_prompts: tuple[str, ...] = ()
