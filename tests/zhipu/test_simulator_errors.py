"""Authentication (raw key and the SDKs' JWT) and request validation, answered with
the platform's statuses and `{"error": {"code": "...", "message": "..."}}` bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest

CHAT = {"model": "glm-4", "messages": [{"role": "user", "content": "hi"}]}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(key_id: str, secret: str, *, expires_ms: int | None = None) -> str:
    """Build the SDKs' token for disable_token_cache=False (zhipu-api.md §1.2)."""
    now_ms = int(time.time() * 1000)
    header = {"alg": "HS256", "sign_type": "SIGN", "typ": "JWT"}
    payload = {
        "api_key": key_id,
        "exp": expires_ms or now_ms + 210_000,
        "timestamp": now_ms,
    }
    signing_input = (
        b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    )
    signature = hmac.new(
        secret.encode(), signing_input.encode(), hashlib.sha256
    ).digest()
    return signing_input + "." + b64url(signature)


def post(
    simulator, token: str | None, payload: object = CHAT, path: str = "chat/completions"
):
    headers = {"Authorization": f"Bearer {token}".strip()} if token is not None else {}
    return httpx.post(
        simulator.base_url + path, json=payload, headers=headers, timeout=10
    )


def assert_platform_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_missing_authorization_is_401_with_1001(simulator):
    assert_platform_error(post(simulator, None), 401, "1001")


@pytest.mark.parametrize("token", ["bad-key", "bad.secret", "badid.whatever", ""])
def test_bad_key_is_401(simulator, token):
    response = post(simulator, token)

    assert_platform_error(response, 401, "1001" if token == "" else "1002")


def test_raw_key_is_accepted(simulator):
    assert post(simulator, "any-id.any-secret").status_code == 200
    assert post(simulator, "test-id.test-secret").status_code == 200


def test_known_key_with_wrong_secret_is_rejected(simulator):
    assert_platform_error(post(simulator, "test-id.wrong-secret"), 401, "1002")


def test_key_without_bearer_prefix_is_accepted(simulator):
    # Older SDK releases sent the token bare; the platform accepted it.
    response = httpx.post(
        simulator.base_url + "chat/completions",
        json=CHAT,
        headers={"Authorization": "test-id.test-secret"},
        timeout=10,
    )

    assert response.status_code == 200


def test_jwt_of_known_key_is_accepted(simulator):
    assert post(simulator, make_jwt("test-id", "test-secret")).status_code == 200


def test_jwt_signed_with_wrong_secret_is_401_with_1004(simulator):
    assert_platform_error(
        post(simulator, make_jwt("test-id", "not-the-secret")), 401, "1004"
    )


@pytest.mark.parametrize(
    "expires_ms",
    [int(time.time() * 1000) - 1000, int(time.time()) + 300],  # past; seconds, not ms
    # Fixed ids: xdist workers collect separately and must name every test alike.
    ids=["past-in-ms", "future-in-seconds"],
)
def test_expired_jwt_is_401_with_1003(simulator, expires_ms):
    token = make_jwt("test-id", "test-secret", expires_ms=expires_ms)

    assert_platform_error(post(simulator, token), 401, "1003")


def test_jwt_for_unknown_key_id_is_accepted_unverified(simulator):
    assert post(simulator, make_jwt("other-id", "other-secret")).status_code == 200


def test_jwt_for_bad_key_id_is_rejected(simulator):
    assert_platform_error(post(simulator, make_jwt("bad-id", "x")), 401, "1002")


def test_malformed_jwt_is_401_with_1002(simulator):
    assert_platform_error(post(simulator, "eyJhbGciOi.not-json.sig"), 401, "1002")


def test_only_the_authorization_header_is_required(simulator):
    # No Content-Type, Accept or SDK headers: proxies drop underscore headers anyway.
    with httpx.Client() as client:
        request = client.build_request(
            "POST",
            simulator.base_url + "chat/completions",
            content=json.dumps(CHAT).encode(),
            headers={"Authorization": "Bearer test-id.test-secret"},
        )
        for name in ("accept", "content-type", "user-agent", "accept-encoding"):
            request.headers.pop(name, None)
        response = client.send(request)

    assert response.status_code == 200, response.text
    assert "user-agent" not in simulator.last_request("/chat/completions")["headers"]


def test_unknown_model_is_400_with_1211(simulator):
    response = post(simulator, "k.s", {**CHAT, "model": "glm-99"})

    assert_platform_error(response, 400, "1211")
    assert response.json()["error"]["message"] == "模型不存在，请检查模型代码。"


@pytest.mark.parametrize("model", ["cogvideox-3", "glm-4-assistant"])
def test_model_of_another_api_is_400_with_1212(simulator, model):
    assert_platform_error(post(simulator, "k.s", {**CHAT, "model": model}), 400, "1212")


def test_empty_messages_is_400_with_1214(simulator):
    assert_platform_error(post(simulator, "k.s", {**CHAT, "messages": []}), 400, "1214")


@pytest.mark.parametrize(("field", "code"), [("messages", "1213"), ("model", "1213")])
def test_missing_required_field_is_400_with_1213(simulator, field, code):
    payload = {key: value for key, value in CHAT.items() if key != field}

    response = post(simulator, "k.s", payload)

    assert_platform_error(response, 400, code)
    assert field in response.json()["error"]["message"]


def test_messages_without_a_user_turn_are_rejected(simulator):
    payload = {**CHAT, "messages": [{"role": "system", "content": "You are helpful."}]}

    assert_platform_error(post(simulator, "k.s", payload), 400, "1214")


def test_body_that_is_not_json_is_400_with_1210(simulator):
    response = httpx.post(
        simulator.base_url + "chat/completions",
        content=b"{not json",
        headers={"Authorization": "Bearer k.s"},
        timeout=10,
    )

    assert_platform_error(response, 400, "1210")


def test_unknown_path_is_404(simulator):
    assert_platform_error(
        post(simulator, "k.s", CHAT, path="chat/nothing"), 404, "1222"
    )
