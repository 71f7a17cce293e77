"""Which pages may open a websocket: the same origin as the socket, or a trusted one.

Browsers send cookies with a websocket handshake from any page, so the Origin header
is what stands between another site (or another port of this host: a dev server, a
second app on 127.0.0.1) and the user's session. Channels' AllowedHostsOriginValidator
compares host names only; here the whole origin counts, as for CSRF:

- scheme, host and port of the Origin equal the socket's own (its Host header, and
  wss/https when the connection or the proxy header Django trusts says so), and that
  host is in ALLOWED_HOSTS; or
- the Origin is one of CSRF_TRUSTED_ORIGINS (scheme, host and port; `*.` subdomains
  as Django allows there).

Anything else, a missing Origin included, is refused at the handshake (HTTP 403).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """Return (scheme, host, port) of an origin or URL, lower case, the port made
    explicit; None for anything that is not an http(s) origin."""
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _is_secure(scope: dict[str, Any]) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, expected = proxy
        meta_name = name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        value = _header(scope, meta_name)
        return value is not None and value.split(",")[0].strip() == expected
    return False


def own_origin(scope: dict[str, Any]) -> Origin | None:
    """Return the socket's own origin, from its Host header; None when the host is
    not one of ALLOWED_HOSTS."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    scheme = "https" if _is_secure(scope) else "http"
    return parse_origin(f"{scheme}://{host}")


def _trusted(origin: Origin, pattern: str) -> bool:
    # As Django reads CSRF_TRUSTED_ORIGINS: "https://*.example.com" is that domain and
    # its subdomains; a port not given is the scheme's default.
    scheme, _, rest = pattern.lower().partition("://")
    wildcard = rest.startswith("*.")
    parsed = parse_origin(f"{scheme}://{rest[2:] if wildcard else rest}")
    if parsed is None or parsed[0] != origin[0] or parsed[2] != origin[2]:
        return False
    if wildcard:
        return is_same_domain(origin[1], "." + parsed[1])
    return parsed[1] == origin[1]


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Return whether the handshake's Origin may open a socket here."""
    header = _header(scope, b"origin")
    origin = parse_origin(header) if header else None
    if origin is None:
        return False
    if origin == own_origin(scope):
        return True
    return any(_trusted(origin, pattern) for pattern in settings.CSRF_TRUSTED_ORIGINS)


class SameOriginValidator:
    """ASGI middleware for websockets: refuse a handshake whose Origin is not this
    site's own (scheme, host and port) nor a trusted one."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier.as_asgi()(scope, receive, send)
