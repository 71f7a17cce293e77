"""The media downloader connects only to allowlisted hosts on public addresses, at
every redirect hop: redirects to loopback in its many spellings are refused before
anything reaches the listener there (a stand-in for Redis)."""

from __future__ import annotations

import http.server
import io
import ipaddress
import socket
import threading
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from glmweb.zhipu import fetchguard, media
from tests.conftest import free_port

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100


class Listener:
    """A TCP server standing in for an internal service: records every connection."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.sock.bind(("::", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.sock.close()


@pytest.fixture
def redirector():
    """A loopback 'file host': /to?u=URL answers 302 to URL, /video.mp4 an MP4."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            if parts.path == "/to":
                self.send_response(302)
                self.send_header("Location", parse_qs(parts.query)["u"][0])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(MP4)))
            self.end_headers()
            self.wfile.write(MP4)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def policy_trusting(root: str, *hosts: str) -> fetchguard.FetchPolicy:
    """The redirector plays the trusted API origin (as the simulator does)."""
    return fetchguard.FetchPolicy(
        hosts=("sfile.chatglm.cn", *hosts), trusted_origin=fetchguard.origin_of(root)
    )


def fetch(url: str, policy: fetchguard.FetchPolicy) -> media.MediaInfo:
    return media.download_media(
        url,
        io.BytesIO(),
        max_bytes=10_000,
        content_types={"video/mp4"},
        timeout=5,
        connect_timeout=2,
        policy=policy,
    )


LOOPBACK_FORMS = [
    "http://127.0.0.1:{port}/",
    "http://0x7f000001:{port}/",
    "http://2130706433:{port}/",
    "http://127.1:{port}/",
    "http://localhost:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://0.0.0.0:{port}/",
]


@pytest.mark.parametrize("target", LOOPBACK_FORMS)
def test_a_redirect_to_loopback_is_refused_before_connecting(
    redirector, listener, target
):
    url = target.format(port=listener.port)
    policy = policy_trusting(redirector)

    with pytest.raises(fetchguard.MediaUnfetchableError) as caught:
        fetch(f"{redirector}/to?u={quote(url)}", policy)

    assert listener.connections == 0
    assert caught.value.message == "the platform's file could not be fetched"
    assert not caught.value.transient


@pytest.mark.parametrize("target", LOOPBACK_FORMS)
def test_an_allowlisted_name_or_literal_on_loopback_is_refused_by_its_address(
    redirector, listener, target
):
    """The allowlist names the host; the address connected to must still be public."""
    url = target.format(port=listener.port)
    host = urlsplit(url).hostname
    policy = policy_trusting(redirector, host)

    with pytest.raises(fetchguard.MediaUnfetchableError):
        fetch(f"{redirector}/to?u={quote(url)}", policy)

    assert listener.connections == 0


def test_every_hop_of_a_chain_is_checked(redirector, listener):
    inner = f"http://localhost:{listener.port}/"
    second_hop = f"{redirector}/to?u={quote(inner)}"
    policy = policy_trusting(redirector, "localhost")

    with pytest.raises(fetchguard.MediaUnfetchableError):
        fetch(f"{redirector}/to?u={quote(second_hop)}", policy)

    assert listener.connections == 0


def test_a_host_off_the_allowlist_is_refused_without_resolving(redirector):
    policy = policy_trusting(redirector)

    with pytest.raises(fetchguard.MediaUnfetchableError) as caught:
        fetch(f"{redirector}/to?u={quote('https://example.com/v.mp4')}", policy)

    assert "GLMWEB_MEDIA_HOSTS" in caught.value.reason


def test_the_trusted_origin_itself_is_fetched(redirector):
    info = fetch(f"{redirector}/video.mp4", policy_trusting(redirector))

    assert info == media.MediaInfo(content_type="video/mp4", size=len(MP4))


def test_the_trusted_origin_on_another_port_is_not_trusted(redirector, listener):
    policy = policy_trusting(redirector, "127.0.0.1")

    with pytest.raises(fetchguard.MediaUnfetchableError):
        fetch(f"http://127.0.0.1:{listener.port}/video.mp4", policy)

    assert listener.connections == 0


def test_the_policy_from_settings_trusts_the_api_origin(settings):
    settings.ZHIPUAI_BASE_URL = "http://127.0.0.1:8765/api/paas/v4/"

    policy = fetchguard.FetchPolicy.from_settings()

    assert policy.trusted_origin == ("http", "127.0.0.1", 8765)
    assert policy.host_allowed("sfile.chatglm.cn")
    assert policy.host_allowed("cdn.bigmodel.cn")
    assert not policy.host_allowed("evilbigmodel.cn")
    assert not policy.host_allowed("127.0.0.1")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
        "ff02::1",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not fetchguard.address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["1.1.1.1", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert fetchguard.address_allowed(ipaddress.ip_address(address))
