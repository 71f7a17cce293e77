"""Where the media downloader may connect: the platform's file hosts, on public
addresses, at every redirect hop.

A finished task's result URL comes from the platform's answer, and a file host may
redirect; without this, a redirect to 127.0.0.1 (or 0x7f000001, 127.1, localhost,
[::ffff:127.0.0.1]) had the worker send a GET to whatever listened there (Redis, an
admin port, a cloud metadata service). Two checks, both on every hop:

- the URL's host is one of GLMWEB_MEDIA_HOSTS (`*.` for a domain and its subdomains),
  checked before the request is sent (an httpx request hook runs for each redirect);
- the address actually connected to is public: the host is resolved here, every
  address it resolves to must pass `address_allowed` (no loopback, private,
  link-local, shared, reserved, multicast or unspecified address, nor an IPv4 one
  wrapped in IPv6: mapped, 6to4, NAT64, Teredo), and the connection goes to that
  checked address (httpcore's network backend, below), so DNS cannot answer one
  address to the check and another to the connection. TLS still verifies the host
  name.

One origin is trusted whatever its address: ZHIPUAI_BASE_URL's own scheme, host and
port, where the API key already goes (the simulator on 127.0.0.1, a company proxy).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from glmweb.zhipu.errors import GLMRejected

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class MediaUnfetchableError(GLMRejected):
    """The file's URL (or a redirect) pointed somewhere the downloader may not go.

    Its message is the same whatever the reason (the user is not told which internal
    address was refused); the reason is logged."""

    kind = "media_unfetchable"

    def __init__(self, reason: str) -> None:
        super().__init__("the platform's file could not be fetched", request_sent=False)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Which hosts may be fetched (`hosts`: names, `*.domain` patterns) and the one
    (scheme, host, port) trusted on any address (`trusted_origin`)."""

    hosts: tuple[str, ...]
    trusted_origin: tuple[str, str, int] | None = None

    @classmethod
    def from_settings(cls) -> FetchPolicy:
        from django.conf import settings

        return cls(
            hosts=tuple(h.lower() for h in settings.GLMWEB_MEDIA_HOSTS),
            trusted_origin=origin_of(settings.ZHIPUAI_BASE_URL),
        )

    def is_trusted(self, scheme: str, host: str, port: int) -> bool:
        return (scheme, host.lower(), port) == self.trusted_origin

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        for pattern in self.hosts:
            if pattern.startswith("*."):
                if host == pattern[2:] or host.endswith(pattern[1:]):
                    return True
            elif host == pattern:
                return True
        return False


def origin_of(url: str) -> tuple[str, str, int] | None:
    """Return (scheme, host, port) of an http(s) URL, the port made explicit."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme]


def address_allowed(address: IPAddress) -> bool:
    """Return whether a downloader may connect to `address`: a public unicast
    address, also when an IPv4 one is carried inside IPv6."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is None and address.teredo is not None:
            inner = address.teredo[1]
        if inner is not None and not address_allowed(inner):
            return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


def check_request(policy: FetchPolicy, request: httpx.Request) -> None:
    """Refuse a request (each redirect hop) to a host not on the allowlist."""
    url = request.url
    port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
    if policy.is_trusted(url.scheme, url.host, port):
        return
    if url.scheme not in _DEFAULT_PORTS or not policy.host_allowed(url.host):
        raise _refused(f"host {url.host!r} is not in GLMWEB_MEDIA_HOSTS")


def _refused(reason: str) -> MediaUnfetchableError:
    logger.warning("media download refused: %s", reason)
    return MediaUnfetchableError(reason)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sync network backend, connecting only to checked addresses."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        trusted = any(
            self._policy.is_trusted(scheme, host, port) for scheme in _DEFAULT_PORTS
        )
        addresses = _resolve(host, port)
        if not trusted:
            refused = [a for a in addresses if not address_allowed(a)]
            if refused:
                raise _refused(f"{host!r} resolves to {refused[0]}, not public")
        error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address for {host!r}")

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise _refused("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def guarded_client(policy: FetchPolicy, timeout: httpx.Timeout) -> httpx.Client:
    """Return an httpx client that follows redirects only within `policy`.

    No proxy from the environment: the address checked must be the one connected
    to."""
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx (0.28) takes no network backend; its pool does.
    transport._pool._network_backend = GuardedBackend(policy)
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        trust_env=False,
        transport=transport,
        event_hooks={"request": [lambda request: check_request(policy, request)]},
    )
