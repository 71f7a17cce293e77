"""The error tree: classification, flags, kinds and end-user wording (no network)."""

from __future__ import annotations

import httpx
import orjson
import pytest

from glmweb import zhipu
from glmweb.zhipu import wording
from glmweb.zhipu.base import BaseClient
from glmweb.zhipu.errors import (
    error_class_for_code,
    error_class_for_status,
    error_fields,
)
from glmweb.zhipu.transport import ClientConfig

ALL_ERRORS = [
    zhipu.GLMError,
    zhipu.GLMUnavailable,
    zhipu.GLMRejected,
    zhipu.APIConnectionError,
    zhipu.APITimeoutError,
    zhipu.StreamInterruptedError,
    zhipu.APIReachLimitError,
    zhipu.APIInternalError,
    zhipu.APIServerFlowExceedError,
    zhipu.APIResponseError,
    zhipu.APIStreamError,
    zhipu.APIRequestFailedError,
    zhipu.APIContentFilterError,
    zhipu.APINotFoundError,
    zhipu.APIAuthenticationError,
    zhipu.APIQuotaExhaustedError,
]


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "1214", zhipu.APIRequestFailedError),
        (400, "1301", zhipu.APIContentFilterError),
        (401, "1002", zhipu.APIAuthenticationError),
        (404, None, zhipu.APINotFoundError),
        (403, None, zhipu.APIRequestFailedError),
        (429, "1113", zhipu.APIQuotaExhaustedError),
        (429, "1302", zhipu.APIReachLimitError),
        (500, "500", zhipu.APIInternalError),
        (502, None, zhipu.APIInternalError),
        (503, "1305", zhipu.APIServerFlowExceedError),
        (504, None, zhipu.APIInternalError),
    ],
)
def test_errors_status_picks_sdk_class(
    status: int, code: str | None, expected: type
) -> None:
    assert error_class_for_status(status, code) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("1001", zhipu.APIAuthenticationError),
        ("1302", zhipu.APIReachLimitError),
        ("1301", zhipu.APIContentFilterError),
        ("1214", zhipu.APIRequestFailedError),
        ("500", zhipu.APIInternalError),
        ("7777", zhipu.APIStreamError),
        (None, zhipu.APIStreamError),
    ],
)
def test_errors_in_stream_code_picks_class(code: str | None, expected: type) -> None:
    assert error_class_for_code(code) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"code": "1214", "message": "bad"}}, ("1214", "bad")),
        ({"error": {"code": 1214, "message": "bad"}}, ("1214", "bad")),
        ({"error": "plain"}, (None, "plain")),
        ({"detail": "x"}, (None, "")),
        ([1], (None, "")),
        (None, (None, "")),
    ],
)
def test_errors_fields_accept_string_or_int_codes(
    body: object, expected: tuple
) -> None:
    assert error_fields(body) == expected


def test_errors_transient_flag_follows_the_two_branches() -> None:
    for cls in ALL_ERRORS[1:]:
        assert cls.transient is issubclass(cls, zhipu.GLMUnavailable)
        assert issubclass(cls, zhipu.GLMUnavailable) != issubclass(
            cls, zhipu.GLMRejected
        )


def test_errors_kinds_are_unique_stable_strings() -> None:
    kinds = [cls.kind for cls in ALL_ERRORS]
    assert len(set(kinds)) == len(kinds)
    assert zhipu.APIReachLimitError.kind == "rate_limited"
    assert zhipu.APIAuthenticationError.kind == "auth_failed"
    assert all(kind.replace("_", "").isalpha() and kind.islower() for kind in kinds)


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_errors_user_message_exists_in_both_languages(
    cls: type[zhipu.GLMError],
) -> None:
    exc = cls("internal detail 1234", status=500, code="42", request_id="rid")
    zh, en = exc.user_message("zh-hans"), exc.user_message("en")
    assert zh and en and zh != en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert en.isascii()
    for text in (zh, en):  # nothing technical leaks to the user
        assert "internal detail" not in text and "rid" not in text


def test_errors_user_message_gives_specific_advice() -> None:
    assert "API" in zhipu.APIAuthenticationError().user_message("en")
    assert "wait" in zhipu.APIReachLimitError().user_message("en")
    assert "blocked" in zhipu.APIContentFilterError().user_message("en")
    assert "安全审核" in zhipu.APIContentFilterError().user_message("zh-hans")
    assert "balance" in zhipu.APIQuotaExhaustedError(code=1113).user_message("en")
    assert "余额" in zhipu.APIQuotaExhaustedError(code="1113").user_message("zh")


def test_errors_str_carries_status_code_and_request_id() -> None:
    exc = zhipu.APIRequestFailedError(
        "model missing", status=400, code=1211, request_id="r1"
    )
    assert str(exc) == "bad_request, HTTP 400, code 1211: model missing (request id r1)"
    assert exc.code == "1211"


def status_error(
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
    key: str = "id.secret",
) -> zhipu.GLMError:
    response = httpx.Response(status, content=body, headers=headers or {})
    client = BaseClient(ClientConfig(base_url="http://x/", api_key=key))
    return client._status_error(response, "sent-id")


def test_errors_response_error_takes_header_request_id_and_retry_after() -> None:
    exc = status_error(
        429,
        b'{"error":{"code":"1302","message":"slow down"}}',
        {"x-request-id": "hdr-id", "retry-after": "3"},
    )
    assert isinstance(exc, zhipu.APIReachLimitError)
    assert (exc.status, exc.code, exc.message) == (429, "1302", "slow down")
    assert (exc.request_id, exc.retry_after, exc.retryable) == ("hdr-id", 3.0, True)


def test_errors_response_error_falls_back_to_body_then_sent_request_id() -> None:
    assert (
        status_error(400, b'{"request_id":"body-id","error":{}}').request_id
        == "body-id"
    )
    assert status_error(400, b"not json").request_id == "sent-id"


def test_errors_non_json_error_body_still_classifies() -> None:
    exc = status_error(502, b"<html>Bad Gateway</html>")
    assert isinstance(exc, zhipu.APIInternalError) and exc.retryable
    assert exc.message == "Bad Gateway"


def test_errors_should_retry_header_overrides_status() -> None:
    assert not status_error(503, b"{}", {"x-should-retry": "false"}).retryable
    assert status_error(400, b"{}", {"x-should-retry": "true"}).retryable


def test_errors_never_contain_the_api_key() -> None:
    key = "abc123.supersecret"
    body = f'{{"error":{{"code":"1002","message":"token {key} is invalid"}}}}'.encode()
    exc = status_error(401, body, key=key)
    assert key not in str(exc) and key not in repr(exc) and "***" in exc.message
    assert key not in repr(ClientConfig(base_url="http://x/", api_key=key))


def test_errors_no_balance_is_permanent_and_never_resent() -> None:
    exc = status_error(
        429,
        '{"error":{"code":"1113","message":"余额不足或无可用资源包,请充值。"}}'.encode(),
    )
    assert isinstance(exc, zhipu.APIQuotaExhaustedError)
    assert not exc.transient and not exc.retryable


@pytest.mark.parametrize(
    ("kind", "code", "transient"),
    [
        ("rate_limited", "1302", True),
        ("rate_limited", None, True),
        ("server_error", "500", True),
        ("overloaded", None, True),
        ("timeout", None, True),
        ("connection_failed", None, True),
        ("stream_interrupted", None, True),
        ("stream_error", None, True),
        ("quota_exhausted", "1113", False),
        ("rate_limited", "1113", False),  # stored before 1113 had its own class
        ("auth_failed", "1002", False),
        ("content_blocked", "1301", False),
        ("content_blocked", None, False),  # finish_reason "sensitive"
        ("bad_request", "1211", False),
        ("bad_media", None, False),  # a subclass defined outside errors.py
        ("no_such_kind", None, False),
    ],
)
def test_errors_is_transient_reads_the_tree(
    kind: str, code: str | None, transient: bool
) -> None:
    import glmweb.zhipu.media  # noqa: F401 (defines MediaRejectedError)

    assert zhipu.is_transient(kind, code) is transient


def test_errors_platform_message_is_plain_capped_text() -> None:
    hostile = "<b>bad</b>\u202eevil\x00 " + "x" * 1000
    exc = status_error(
        400, orjson.dumps({"error": {"code": "1214", "message": hostile}})
    )
    detail = exc.platform_message
    assert detail.startswith("bad evil x") and "<" not in detail
    assert "\u202e" not in detail and "\x00" not in detail
    assert len(detail) == wording.DETAIL_MAX_CHARS and detail.endswith("…")


def test_errors_platform_message_is_empty_without_an_answer() -> None:
    assert status_error(502, b"<html>Bad Gateway</html>").platform_message == ""
    assert zhipu.APIConnectionError("ConnectError: refused").platform_message == ""
