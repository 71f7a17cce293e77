"""The hostile upload corpus (issue 13, item 4), shared by every entry point's test.

Each entry is a file a browser could be made to send: HTML and SVG labelled as
images, polyglots (real images that also carry HTML or script), traversal, NUL and
control-character names, a very long name, an oversized file, pixel bombs, truncated
images and animated bombs. `outcome` says what must happen to it wherever it comes
in: "refused" (nothing stored) or "reencoded" (stored under a generated name as
freshly encoded pixels, so any tail or comment is gone).

The limits the entry-point tests set (`LIMITS`) are what make the oversized file and
the pixel bombs refusals while keeping the corpus small and quick to build.

Names travel in a multipart body built here (`multipart`), not through Django's test
client, which would take the basename of a traversal name before it left the test.
"""

from __future__ import annotations

import functools
import io
import random
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

# Limits the entry-point tests set: smaller than production's so the corpus is cheap.
MAX_BYTES = 200 * 1024
MAX_PIXELS = 4_000_000

SCRIPT = b"<script>alert(document.cookie)</script>"
HTML = b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>"
# Markup that must never be found in a stored or served file.
ACTIVE = re.compile(rb"<\s*(script|html|svg|body|iframe)|onload|onerror", re.I)


@dataclass(frozen=True)
class HostileFile:
    id: str
    name: str
    content_type: str
    build: Callable[[], bytes]
    outcome: str  # "refused" | "reencoded" | "unparsable" (Django's own 400)
    # The source image format when Pillow can read it (an entry point that does not
    # take this format refuses the file instead of re-encoding it).
    source_format: str = ""

    @property
    def data(self) -> bytes:
        return _built(self.id)


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _noise(size: tuple[int, int], seed: int = 13) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def _small_png() -> bytes:
    return _encode(Image.new("RGB", (48, 32), (200, 40, 40)), "PNG")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _png_with_script_after_iend() -> bytes:
    # A script in a text chunk and a whole HTML page after IEND: a valid PNG that
    # a sniffing browser (or a server serving it as text/html) would run.
    png = _small_png()
    text = _png_chunk(b"tEXt", b"Comment\0" + SCRIPT)
    return png[:33] + text + png[33:] + HTML


def _gif_js_polyglot() -> bytes:
    # A valid GIF whose comment extension is a script and whose trailer is followed
    # by an HTML page.
    image = Image.new("P", (40, 30), 3)
    return _encode(image, "GIF", comment=SCRIPT) + HTML


def _jpeg_html_polyglot() -> bytes:
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    return _encode(image, "JPEG", comment=HTML) + HTML


def _png_header_bomb() -> bytes:
    # 60000 x 60000 claimed in IHDR over a tiny IDAT: decoding would need 10 GB.
    png = bytearray(_small_png())
    png[16:24] = struct.pack(">II", 60000, 60000)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])) & 0xFFFFFFFF)
    return bytes(png)


def _bomb(fmt: str, **options: object) -> Callable[[], bytes]:
    # 6 megapixels of one colour: a few hundred bytes to a few KB on disk, over
    # MAX_PIXELS once decoded.
    mode = "P" if fmt == "GIF" else "L"
    return lambda: _encode(Image.new(mode, (3000, 2000), 7), fmt, **options)


def _truncated(fmt: str) -> Callable[[], bytes]:
    def build() -> bytes:
        image = _noise((200, 150))
        data = _encode(image.convert("P") if fmt == "GIF" else image, fmt)
        return data[: len(data) // 2]

    return build


def _animated(fmt: str, frames: int, **options: object) -> Callable[[], bytes]:
    # Many frames, each a different colour so no encoder folds them together; only
    # the first is ever decoded and kept.
    def build() -> bytes:
        mode = "P" if fmt == "GIF" else "RGB"
        pictures = [
            Image.new(mode, (32, 32), i % 256 if mode == "P" else (i % 256, 0, 0))
            for i in range(frames)
        ]
        return _encode(
            pictures[0], fmt, save_all=True, append_images=pictures[1:], **options
        )

    return build


CORPUS: list[HostileFile] = [
    HostileFile("html-as-png", "photo.png", "image/png", lambda: HTML, "refused"),
    HostileFile(
        "svg-as-png",
        "logo.png",
        "image/png",
        lambda: (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
            + SCRIPT
            + b"</svg>"
        ),
        "refused",
    ),
    HostileFile(
        "svg-as-svg",
        "logo.svg",
        "image/svg+xml",
        lambda: (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
            + SCRIPT
            + b"</svg>"
        ),
        "refused",
    ),
    HostileFile(
        "html-behind-gif-magic",
        "a.gif",
        "image/gif",
        lambda: b"GIF89a" + HTML,
        "refused",
    ),
    HostileFile(
        "png-script-after-iend",
        "cat.png",
        "image/png",
        _png_with_script_after_iend,
        "reencoded",
        "PNG",
    ),
    HostileFile(
        "gif-js-polyglot", "cat.gif", "image/gif", _gif_js_polyglot, "reencoded", "GIF"
    ),
    HostileFile(
        "jpeg-html-polyglot",
        "cat.html",
        "text/html",
        _jpeg_html_polyglot,
        "reencoded",
        "JPEG",
    ),
    HostileFile(
        "traversal-relative",
        "../../../etc/cron.d/x.png",
        "image/png",
        _small_png,
        "reencoded",
        "PNG",
    ),
    HostileFile(
        "traversal-absolute",
        "/etc/passwd.png",
        "image/png",
        _small_png,
        "reencoded",
        "PNG",
    ),  # fmt: skip
    HostileFile(
        "traversal-windows",
        "C:\\Windows\\..\\..\\System32\\x.png",
        "image/png",
        _small_png,
        "reencoded",
        "PNG",
    ),
    HostileFile(
        "nul-in-name", "x.png\x00.html", "image/png", _small_png, "reencoded", "PNG"
    ),
    HostileFile(
        "control-chars-in-name",
        'a\x07b\x1b[31m"; x=.html\x7f.png',
        "image/png",
        _small_png,
        "reencoded",
        "PNG",
    ),
    # Far past any file system's 255 but inside Django's 1 KB part-header limit:
    # reaches our own name cleaning.
    HostileFile(
        "very-long-name",
        "a" * 900 + ".png",
        "image/png",
        _small_png,
        "reencoded",
        "PNG",
    ),  # fmt: skip
    # Past that limit Django's multipart parser refuses the whole request (a plain
    # 400 page, before CSRF or the view run).
    HostileFile(
        "name-past-the-header-limit",
        "a" * 5000 + ".png",
        "image/png",
        _small_png,
        "unparsable",
        "PNG",
    ),  # fmt: skip
    HostileFile(
        "oversized",
        "big.png",
        "image/png",
        lambda: _encode(_noise((320, 320)), "PNG"),  # ~300 KB of noise
        "refused",
        "PNG",
    ),
    HostileFile(
        "pixel-bomb-png-header", "bomb.png", "image/png", _png_header_bomb, "refused"
    ),
    HostileFile("pixel-bomb-png", "bomb.png", "image/png", _bomb("PNG"), "refused"),
    HostileFile("pixel-bomb-gif", "bomb.gif", "image/gif", _bomb("GIF"), "refused"),
    HostileFile(
        "pixel-bomb-webp",
        "bomb.webp",
        "image/webp",
        _bomb("WEBP", lossless=True),
        "refused",
    ),
    HostileFile("truncated-png", "t.png", "image/png", _truncated("PNG"), "refused"),
    HostileFile("truncated-jpeg", "t.jpg", "image/jpeg", _truncated("JPEG"), "refused"),
    HostileFile("truncated-gif", "t.gif", "image/gif", _truncated("GIF"), "refused"),
    HostileFile(
        "animated-gif-600-frames",
        "anim.gif",
        "image/gif",
        _animated("GIF", 600),
        "reencoded",
        "GIF",
    ),
    HostileFile(
        "animated-png-300-frames",
        "anim.png",
        "image/png",
        _animated("PNG", 300),
        "reencoded",
        "PNG",
    ),
    HostileFile(
        "animated-webp-200-frames",
        "anim.webp",
        "image/webp",
        _animated("WEBP", 200, lossless=True),
        "reencoded",
        "WEBP",
    ),
]
BY_ID = {entry.id: entry for entry in CORPUS}


@functools.cache
def _built(entry_id: str) -> bytes:
    return BY_ID[entry_id].build()


def expected(entry: HostileFile, formats: frozenset[str]) -> str:
    """Return the outcome at an entry point that takes `formats`."""
    if entry.outcome == "reencoded" and entry.source_format not in formats:
        return "refused"
    return entry.outcome


def multipart(
    fields: dict[str, str], file_field: str, entry: HostileFile, data: bytes
) -> tuple[bytes, str]:
    """Return (body, content type) of a multipart POST carrying `entry` under its
    own raw name, bytes for bytes (quotes and backslashes escaped as browsers do)."""
    boundary = "----glmweb-hostile-7d1f"
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    name = entry.name.replace("\\", "\\\\").replace('"', '\\"')
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{name}"\r\nContent-Type: {entry.content_type}\r\n\r\n'.encode(
            "utf-8", "surrogateescape"
        )
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def is_reencoded_image(data: bytes) -> str:
    """Return the format ("PNG"/"JPEG") of `data` after asserting that it is one
    still image as our normaliser writes it: no markup, nothing after its end."""
    assert not ACTIVE.search(data), "markup survived into the stored file"
    with Image.open(io.BytesIO(data)) as image:
        fmt = image.format or ""
        assert fmt in {"PNG", "JPEG"}, fmt
        assert getattr(image, "n_frames", 1) == 1
        assert not {"comment", "exif", "icc_profile"} & set(image.info)
        image.load()
    if fmt == "PNG":
        assert data.endswith(_png_chunk(b"IEND", b"")), "bytes after IEND"
    else:
        assert data.endswith(b"\xff\xd9"), "bytes after the JPEG's end"
    return fmt


SAFE_NAME = re.compile(r'^(inline|attachment); filename="?[^"/\\\x00-\x1f\x7f]*"?')


def assert_safe_download_headers(response: object, stored: bytes) -> None:
    """Assert a served upload is exactly the stored bytes, typed as what they are,
    never sniffed, with a Content-Disposition naming no path or control character."""
    headers = response  # Django responses read headers by key
    body = (
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
        if getattr(response, "streaming", False)
        else response.content  # type: ignore[attr-defined]
    )
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert body == stored
    expected_type = "image/png" if stored.startswith(b"\x89PNG") else "image/jpeg"
    assert headers["Content-Type"] == expected_type  # type: ignore[index]
    assert headers["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]
    disposition = headers["Content-Disposition"]  # type: ignore[index]
    assert SAFE_NAME.match(disposition), disposition
    extension = ".png" if expected_type == "image/png" else ".jpg"
    plain = re.search(r'filename="([^"]*)"', disposition)
    if plain:
        assert plain.group(1).endswith(extension), disposition
