"""The one client for ZhipuAI's GLM platform; nothing else in the app imports httpx.

Use it through the module: `from glmweb import zhipu`, then `zhipu.astream_chat(...)`,
`zhipu.submit_video(...)`, `zhipu.get_video_result(task_id)`. docs/api-client.md has
the full contract.

Every failure is a GLMError:

    GLMError
    ├── GLMUnavailable  (transient = True: network, timeout, 429, 5xx; retry later)
    │   ├── APIConnectionError ── APITimeoutError, StreamInterruptedError
    │   ├── APIReachLimitError (429: a rate limit), APIInternalError (500/5xx),
    │   │   APIServerFlowExceedError (503)
    │   └── APIResponseError ── APIStreamError (malformed event, error event)
    └── GLMRejected     (transient = False: the request itself is refused)
        ├── APIRequestFailedError (400/4xx) ── APIContentFilterError, APINotFoundError
        ├── APIAuthenticationError (401)
        └── APIQuotaExhaustedError (no balance 1113, quota used up 1304/1308/1310)

Each carries `status`, `code` (the platform's business code), `message`, `request_id`,
`kind` (a stable string for the websocket protocol), `request_sent` (False only when
the request certainly never left), `partial_content` (text a stream delivered before
failing) and `user_message(language)`. `is_transient(kind, code)` says whether a
stored failure may pass if retried.

Modules: api (the calls), client/base (the sync and async faces and their shared
base), registry (pooled clients), payloads/streams (platform JSON), sse (the event
reader), retry, transport, errors, wording (what users read about an error), types.
"""

from __future__ import annotations

from glmweb.zhipu.api import (
    aassistant_chat,
    achat,
    aget_video_result,
    alist_assistants,
    assistant_chat,
    astream_assistant,
    astream_chat,
    asubmit_video,
    chat,
    get_video_result,
    list_assistants,
    stream_assistant,
    stream_chat,
    submit_video,
)
from glmweb.zhipu.async_client import AsyncClient
from glmweb.zhipu.client import Client
from glmweb.zhipu.errors import (
    APIAuthenticationError,
    APIConnectionError,
    APIContentFilterError,
    APIInternalError,
    APINotFoundError,
    APIQuotaExhaustedError,
    APIReachLimitError,
    APIRequestFailedError,
    APIResponseError,
    APIServerFlowExceedError,
    APIStreamError,
    APITimeoutError,
    GLMError,
    GLMRejected,
    GLMUnavailable,
    StreamInterruptedError,
    is_transient,
)
from glmweb.zhipu.registry import (
    aclose_clients,
    get_async_client,
    get_client,
    reset_clients,
)
from glmweb.zhipu.transport import ClientConfig
from glmweb.zhipu.types import (
    AssistantDelta,
    AssistantInfo,
    AssistantReply,
    AssistantToolCall,
    CharacterMeta,
    ChatCompletion,
    ChatDelta,
    ImagePart,
    Message,
    SearchResult,
    TextPart,
    ToolOutput,
    Usage,
    VideoResult,
    VideoStatus,
    VideoTask,
    WebSearchOptions,
)

__all__ = [
    "APIAuthenticationError",
    "APIConnectionError",
    "APIContentFilterError",
    "APIInternalError",
    "APINotFoundError",
    "APIQuotaExhaustedError",
    "APIReachLimitError",
    "APIRequestFailedError",
    "APIResponseError",
    "APIServerFlowExceedError",
    "APIStreamError",
    "APITimeoutError",
    "AssistantDelta",
    "AssistantInfo",
    "AssistantReply",
    "AssistantToolCall",
    "AsyncClient",
    "CharacterMeta",
    "ChatCompletion",
    "ChatDelta",
    "Client",
    "ClientConfig",
    "GLMError",
    "GLMRejected",
    "GLMUnavailable",
    "ImagePart",
    "Message",
    "SearchResult",
    "StreamInterruptedError",
    "TextPart",
    "ToolOutput",
    "Usage",
    "VideoResult",
    "VideoStatus",
    "VideoTask",
    "WebSearchOptions",
    "aassistant_chat",
    "achat",
    "aclose_clients",
    "aget_video_result",
    "alist_assistants",
    "assistant_chat",
    "astream_assistant",
    "astream_chat",
    "asubmit_video",
    "chat",
    "get_async_client",
    "get_client",
    "get_video_result",
    "is_transient",
    "list_assistants",
    "reset_clients",
    "stream_assistant",
    "stream_chat",
    "submit_video",
]
