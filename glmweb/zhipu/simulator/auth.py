"""The platform's two bearer forms: the raw `id.secret` key, or the SDKs' JWT.

The JWT (zhipu-api.md §1.2) is HS256 over the key's secret, with payload
{"api_key": <id>, "exp": <ms>, "timestamp": <ms>}. A JWT for a key the simulator knows
(config.api_keys) must carry a valid signature; for any other id the signature cannot be
checked, so a well-formed, unexpired token is accepted. Keys starting with "bad" are
always refused, so tests can provoke a 401 without knowing the configuration.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

import orjson

from .config import SimulatorConfig
from .errors import platform_error


def authenticate(authorization: str | None, config: SimulatorConfig) -> None:
    """Return if the Authorization header passes; raise the platform's 401 if not."""
    scheme, _, rest = (authorization or "").strip().partition(" ")
    # SDKs before May 2024 sent the token without "Bearer "; the platform took both.
    token = rest.strip() if scheme.lower() == "bearer" else scheme
    if not token:
        raise platform_error("1001")
    if token.startswith("eyJ") and token.count(".") == 2:
        _check_jwt(token, config)
        return
    key_id, _, secret = token.partition(".")
    known_secret = config.secret_for(key_id)
    if token.startswith("bad") or (known_secret is not None and secret != known_secret):
        raise platform_error("1002")


def _check_jwt(token: str, config: SimulatorConfig) -> None:
    header_b64, payload_b64, signature_b64 = token.split(".")
    try:
        header = orjson.loads(_b64url_decode(header_b64))
        payload = orjson.loads(_b64url_decode(payload_b64))
        signature = _b64url_decode(signature_b64)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise platform_error("1002") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise platform_error("1002")
    if not isinstance(payload, dict):
        raise platform_error("1002")
    key_id, expires_ms = payload.get("api_key"), payload.get("exp")
    if not isinstance(key_id, str) or not isinstance(expires_ms, int | float):
        raise platform_error("1002")
    if key_id.startswith("bad"):
        raise platform_error("1002")
    secret = config.secret_for(key_id)
    if secret is not None and not _signature_matches(
        f"{header_b64}.{payload_b64}", signature, secret
    ):
        raise platform_error("1004")
    # `exp` is in milliseconds: a token built with seconds reads as long expired, as it
    # would upstream.
    if expires_ms <= time.time() * 1000:
        raise platform_error("1003")


def _signature_matches(signing_input: str, signature: bytes, secret: str) -> bool:
    expected = hmac.new(
        secret.encode(), signing_input.encode(), hashlib.sha256
    ).digest()
    return hmac.compare_digest(expected, signature)


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
