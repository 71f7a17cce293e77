"""The error tree of the GLM API client.

    GLMError                          kind                 when
    ├── GLMUnavailable                "unavailable"        transient: retry later
    │   ├── APIConnectionError        "connection_failed"  network failure
    │   │   ├── APITimeoutError       "timeout"            connect/read/idle timeout
    │   │   └── StreamInterruptedError "stream_interrupted" cut off, no [DONE]
    │   ├── APIReachLimitError        "rate_limited"       HTTP 429, 1302-1305, 1313
    │   ├── APIInternalError          "server_error"       HTTP 500/502/504, 5xx
    │   ├── APIServerFlowExceedError  "overloaded"         HTTP 503
    │   └── APIResponseError          "bad_response"       unreadable 2xx body
    │       └── APIStreamError        "stream_error"       bad event, error event
    └── GLMRejected                   "rejected"           permanent: fix the request
        ├── APIRequestFailedError     "bad_request"        HTTP 400, other 4xx
        │   ├── APIContentFilterError "content_blocked"    code 1301/1300
        │   └── APINotFoundError      "not_found"          HTTP 404
        ├── APIAuthenticationError    "auth_failed"        HTTP 401, 1000-1004
        └── APIQuotaExhaustedError    "quota_exhausted"    1113, 1304, 1308, 1310

The class names mirror the official SDK (zhipuai/core/_errors.py) so platform docs and
search results map onto ours; the two middle classes carry the one fact callers branch
on, `transient`. A business code that names a lasting state outranks the HTTP status:
1113 (no balance) arrives as a 429 but waiting a minute will not help, so it is
permanent and never resent. `is_transient(kind, code)` answers the same question for a
failure stored as its kind and code (a chat reply's retry button).

Every error carries the HTTP status, the platform's business code and message, the
request id, `platform_message` (the platform's own explanation, cleaned so it may be
shown to users; "" when none came), `request_sent` (False only when the request
certainly never left this machine: a refused or timed-out connect, no free pooled
connection; then sending again is safe even where resending is not, e.g. a paid video
submission), and `partial_content` / `partial_reasoning`: the text a stream delivered
before it failed (empty when it failed before any text).
"""

from __future__ import annotations

from typing import Any, ClassVar

from glmweb.zhipu import wording


class GLMError(Exception):
    """Base of every error the GLM client raises."""

    kind: ClassVar[str] = "error"
    transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        code: str | int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        retryable: bool = False,
        request_sent: bool = True,
        platform_message: str = "",
        partial_content: str = "",
        partial_reasoning: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # The platform sends the code as a string in its docs and as an int in one
        # schema; keep one type so callers can compare with "1301".
        self.code = None if code is None or code == "" else str(code)
        self.request_id = request_id
        self.retry_after = retry_after
        # Whether the client may resend the request by itself (connect failures and
        # 429/5xx); `transient` is about the situation, this is about safety to resend.
        self.retryable = retryable
        # Set by the transport layer (transport.request_error), which alone knows what
        # each library's exceptions mean; everything answered or cut mid-body was sent.
        self.request_sent = request_sent
        # The platform's own words from its error body, cleaned for showing to users
        # (plain text, capped); "" when the failure never got an answer with a message.
        self.platform_message = wording.platform_detail(platform_message)
        self.partial_content = partial_content
        self.partial_reasoning = partial_reasoning

    @property
    def interrupted(self) -> bool:
        """Return whether the failure cut off a reply that had already begun."""
        return bool(self.partial_content or self.partial_reasoning)

    def user_message(self, language: str = "zh-hans") -> str:
        """Return a short, non-technical explanation for the end user.

        `language` is a Django language code; anything starting with "zh" gets
        Simplified Chinese, everything else English.
        """
        return wording.user_message(self.kind, self.code, self.interrupted, language)

    def __str__(self) -> str:
        parts = [self.kind]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code is not None:
            parts.append(f"code {self.code}")
        text = ", ".join(parts)
        if self.message:
            text += f": {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class GLMUnavailable(GLMError):
    """The platform could not answer now; the same request may work later."""

    kind = "unavailable"
    transient = True


class GLMRejected(GLMError):
    """The platform refused the request; resending it unchanged will fail again."""

    kind = "rejected"
    transient = False


class APIConnectionError(GLMUnavailable):
    """The network failed: refused, reset, DNS, TLS, or the stream was cut."""

    kind = "connection_failed"


class APITimeoutError(APIConnectionError):
    """Connecting, awaiting the answer, or awaiting the next chunk took too long."""

    kind = "timeout"


class StreamInterruptedError(APIConnectionError):
    """A stream stopped before its end marker; `partial_content` holds what arrived."""

    kind = "stream_interrupted"


class APIReachLimitError(GLMUnavailable):
    """HTTP 429: a rate or concurrency limit; it lifts within moments."""

    kind = "rate_limited"


class APIInternalError(GLMUnavailable):
    """HTTP 500 or another 5xx the platform or a gateway returned."""

    kind = "server_error"


class APIServerFlowExceedError(GLMUnavailable):
    """HTTP 503: the platform is overloaded."""

    kind = "overloaded"


class APIResponseError(GLMUnavailable):
    """The platform answered 2xx with a body we cannot read."""

    kind = "bad_response"


class APIStreamError(APIResponseError):
    """A stream carried a malformed event or an error object we cannot classify."""

    kind = "stream_error"


class APIRequestFailedError(GLMRejected):
    """HTTP 400 (or another 4xx): bad parameters, unknown model, bad image, ..."""

    kind = "bad_request"


class APIContentFilterError(APIRequestFailedError):
    """The platform's safety review refused the input or output (code 1301)."""

    kind = "content_blocked"


class APINotFoundError(APIRequestFailedError):
    """HTTP 404: the task or resource does not exist."""

    kind = "not_found"


class APIAuthenticationError(GLMRejected):
    """HTTP 401: the API key is missing, wrong, expired or disabled."""

    kind = "auth_failed"


class APIQuotaExhaustedError(GLMRejected):
    """No balance (1113) or a daily/periodic quota used up (1304, 1308, 1310).

    The platform sends these as HTTP 429, but unlike a rate limit they last until an
    administrator tops up or the period ends, so neither we nor the user should retry.
    """

    kind = "quota_exhausted"


_STATUS_CLASSES: dict[int, type[GLMError]] = {
    400: APIRequestFailedError,
    401: APIAuthenticationError,
    404: APINotFoundError,
    408: APITimeoutError,
    429: APIReachLimitError,
    500: APIInternalError,
    503: APIServerFlowExceedError,
}

# Business codes that decide the class on their own: inside an HTTP-200 stream there is
# no status to go by; and a permanent one outranks any status (a 400 with 1301 is a
# refusal of content, not of parameters; a 429 with 1113 will not pass by waiting).
_CODE_CLASSES: dict[str, type[GLMError]] = {
    "500": APIInternalError,
    "1000": APIAuthenticationError,
    "1001": APIAuthenticationError,
    "1002": APIAuthenticationError,
    "1003": APIAuthenticationError,
    "1004": APIAuthenticationError,
    "1113": APIQuotaExhaustedError,
    "1234": APIInternalError,
    "1300": APIContentFilterError,
    "1301": APIContentFilterError,
    "1302": APIReachLimitError,
    "1303": APIReachLimitError,
    "1304": APIQuotaExhaustedError,
    "1305": APIReachLimitError,
    "1308": APIQuotaExhaustedError,
    "1310": APIQuotaExhaustedError,
    "1312": APIServerFlowExceedError,
    "1313": APIReachLimitError,
}


def error_class_for_status(status: int, code: str | None = None) -> type[GLMError]:
    """Return the error class for an HTTP error status and optional business code."""
    if is_permanent_code(code):
        return _CODE_CLASSES[code or ""]
    cls = _STATUS_CLASSES.get(status)
    if cls is not None:
        return cls
    if status >= 500:
        return APIInternalError
    return APIRequestFailedError


def error_class_for_code(code: str | None) -> type[GLMError]:
    """Return the error class for a business code found inside a 200 stream."""
    if code is None:
        return APIStreamError
    cls = _CODE_CLASSES.get(code)
    if cls is not None:
        return cls
    if code.startswith("12"):  # 12xx: parameter and API-call errors
        return APIRequestFailedError
    return APIStreamError


def is_permanent_code(code: str | None) -> bool:
    """Return whether business `code` names a failure that retrying cannot cure (no
    balance, refused content, bad credentials), whatever HTTP status came with it."""
    cls = _CODE_CLASSES.get(code or "")
    return cls is not None and not cls.transient


def _class_for_kind(kind: str) -> type[GLMError] | None:
    """Return the class of the tree whose `kind` is `kind` (subclasses defined
    elsewhere, such as media.MediaRejectedError, included)."""
    pending: list[type[GLMError]] = [GLMError]
    while pending:
        cls = pending.pop()
        if cls.kind == kind:
            return cls
        pending.extend(cls.__subclasses__())
    return None


def is_transient(kind: str, code: str | None = None) -> bool:
    """Return whether a failure stored as `kind` and business `code` may succeed if
    the same request is sent again later.

    The code's class wins over the kind, so a 1113 stored as "rate_limited" (before it
    had its own class) still counts as permanent. An unknown kind is not transient.
    """
    cls = _CODE_CLASSES.get(code or "") or _class_for_kind(kind)
    return cls is not None and cls.transient


def error_fields(body: Any) -> tuple[str | None, str]:
    """Return (business code, message) from a decoded error body of any shape."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message")
        return (None if code is None else str(code)), str(message or "")
    if isinstance(error, str):
        return None, error
    return None, ""
