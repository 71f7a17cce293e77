"""The one image normaliser: every uploaded image passes through here before it is
stored or sent upstream (video jobs' image-to-video source, chat's glm-4v uploads).

    from glmweb import images

    try:
        image = images.normalise_image(upload)  # bytes or a binary file object
    except images.ImageRejectedError as exc:
        form.add_error("image", exc.user_message(get_language()))
    else:
        image.data          # re-encoded bytes: PNG (has transparency) or JPEG
        image.content_type  # "image/png" | "image/jpeg"
        image.extension     # ".png" | ".jpg"
        image.width, image.height
        image.data_url()    # "data:image/jpeg;base64,..." for the GLM client

What it guarantees, in order:

1. The input is at most `max_bytes` (default settings.IMAGE_MAX_UPLOAD_BYTES), checked
   before anything is decoded.
2. Pillow recognises it as one of `formats` (default PNG, JPEG, WEBP, GIF, BMP); the
   width x height in the header is at most `max_pixels` (default
   settings.IMAGE_MAX_PIXELS) *before* the pixels are decoded, so a decompression bomb
   costs nothing; each side is at least `min_side`.
3. The pixels decode completely (a truncated or corrupt file is rejected).
4. EXIF orientation is applied to the pixels, then every piece of metadata (EXIF, GPS,
   XMP, ICC, text chunks) is dropped by re-encoding from raw pixels: PNG when the
   image has transparency, JPEG (quality 90) otherwise. Animated images keep their
   first frame.
5. The longest side is scaled down to `max_side` when given, and the encoded result is
   shrunk step by step (never below 256 px) until it fits `max_output_bytes` when given
   (e.g. the platform's 5 MB cap for image-to-video).

Anything else raises `ImageRejectedError`, whose `code` is stable ("too_large",
"not_an_image", "unsupported_format", "too_many_pixels", "too_small", "corrupt",
"too_large_after_encoding") and whose `user_message(language)` says, in Simplified
Chinese ("zh*") or English, what was wrong and what to do. Nothing here touches the
database or storage; callers decide where the bytes go.
"""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from glmweb.rejections import RejectedUpload

DEFAULT_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF", "BMP"})
JPEG_QUALITY = 90
SMALLEST_SHRINK_SIDE = 256

# code -> (zh-hans, en); {placeholders} come from the error's params.
_MESSAGES: dict[str, tuple[str, str]] = {
    "too_large": (
        "图片文件太大（{size}），上限为 {limit}。请压缩或换一张较小的图片。",
        "The image file is too large ({size}); the limit is {limit}. "
        "Please compress it or choose a smaller one.",
    ),
    "not_an_image": (
        "无法识别该文件，它不是图片或已损坏。请上传 PNG、JPEG 或 WebP 图片。",
        "This file is not an image we can read, or it is damaged. "
        "Please upload a PNG, JPEG or WebP image.",
    ),
    "unsupported_format": (
        "不支持 {format} 格式的图片。请上传 {allowed} 格式的图片。",
        "{format} images are not supported. Please upload {allowed}.",
    ),
    "too_many_pixels": (
        "图片分辨率太高（{width}×{height}），最多 {limit} 百万像素。请缩小后再上传。",
        "The image has too many pixels ({width}×{height}); the limit is "
        "{limit} megapixels. Please scale it down and try again.",
    ),
    "too_many_pixels_unknown_size": (
        "图片分辨率太高，最多 {limit} 百万像素。请缩小后再上传。",
        "The image has too many pixels; the limit is {limit} megapixels. "
        "Please scale it down and try again.",
    ),
    "too_small": (
        "图片太小（{width}×{height}），每边至少 {limit} 像素。",
        "The image is too small ({width}×{height}); each side needs at least "
        "{limit} pixels.",
    ),
    "corrupt": (
        "图片已损坏或不完整，无法解码。请重新导出后再上传。",
        "The image is damaged or incomplete and cannot be decoded. "
        "Please export it again and retry.",
    ),
    "too_large_after_encoding": (
        "即使缩小后，图片仍大于 {limit}。请换一张内容更简单或更小的图片。",
        "Even scaled down, the image is still larger than {limit}. "
        "Please choose a smaller or simpler image.",
    ),
}


class ImageRejectedError(RejectedUpload):
    """The upload is not an image we accept; `code` says why (see the module doc)."""

    wording = _MESSAGES

    def wording_key(self) -> str:
        # Pillow's own bomb check refuses some headers before we learn the size.
        if self.code == "too_many_pixels" and "width" not in self.params:
            return "too_many_pixels_unknown_size"
        return self.code


@dataclass(frozen=True, slots=True)
class NormalisedImage:
    """A decoded, checked and re-encoded image with no metadata."""

    data: bytes
    content_type: str  # "image/png" or "image/jpeg"
    width: int
    height: int
    source_format: str  # what the upload was: "PNG", "JPEG", "WEBP", ...

    @property
    def extension(self) -> str:
        """Return the file extension for `content_type`, with its dot."""
        return ".png" if self.content_type == "image/png" else ".jpg"

    def data_url(self) -> str:
        """Return the image as a `data:` URL (the GLM client sends it as base64)."""
        encoded = base64.b64encode(self.data).decode("ascii")
        return f"data:{self.content_type};base64,{encoded}"


def human_size(size: int) -> str:
    """Return `size` bytes as a short human string ("5 MB", "812 KB")."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{max(1, round(size / 1024))} KB"


def normalise_image(
    source: bytes | IO[bytes],
    *,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    formats: frozenset[str] = DEFAULT_FORMATS,
    min_side: int = 1,
    max_side: int | None = None,
    max_output_bytes: int | None = None,
) -> NormalisedImage:
    """Return `source` decoded, checked and re-encoded without metadata.

    `source` is bytes or a binary file object (a Django UploadedFile works; it is read
    from its start). Raises ImageRejectedError; never anything else for bad input.
    """
    max_bytes = settings.IMAGE_MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    max_pixels = settings.IMAGE_MAX_PIXELS if max_pixels is None else max_pixels
    data = _read_limited(source, max_bytes)
    image = _open_checked(data, max_pixels, formats, min_side)
    source_format = image.format or ""
    image = _upright_pixels(image)
    if max_side is not None and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    encoded, content_type = _encode(image)
    while max_output_bytes is not None and len(encoded) > max_output_bytes:
        if max(image.size) <= SMALLEST_SHRINK_SIDE:
            raise ImageRejectedError(
                "too_large_after_encoding", limit=human_size(max_output_bytes)
            )
        # Bytes scale with area: shrink the sides by the square root of the excess,
        # a little more to converge in one or two steps.
        factor = min(0.9, (max_output_bytes / len(encoded)) ** 0.5 * 0.95)
        size = (max(1, int(image.width * factor)), max(1, int(image.height * factor)))
        image = image.resize(size, Image.Resampling.LANCZOS)
        encoded, content_type = _encode(image)
    return NormalisedImage(
        data=encoded,
        content_type=content_type,
        width=image.width,
        height=image.height,
        source_format=source_format,
    )


def _read_limited(source: bytes | IO[bytes], max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        size = getattr(source, "size", None)
        if isinstance(size, int) and size > max_bytes:
            # Refuse before reading a huge upload into memory.
            raise ImageRejectedError(
                "too_large", size=human_size(size), limit=human_size(max_bytes)
            )
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        shown = getattr(source, "size", None) or len(data)
        raise ImageRejectedError(
            "too_large", size=human_size(int(shown)), limit=human_size(max_bytes)
        )
    if not data:
        raise ImageRejectedError("not_an_image")
    return data


def _open_checked(
    data: bytes, max_pixels: int, formats: frozenset[str], min_side: int
) -> Image.Image:
    try:
        # Opening reads only the header; the pixel count is checked before load().
        # Our own limit decides, so Pillow's bomb warning is noise here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        # Pillow refuses headers of twice its own limit before we can read them.
        raise ImageRejectedError(
            "too_many_pixels", limit=f"{max_pixels / 1_000_000:g}"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRejectedError("not_an_image") from None
    if image.format not in formats:
        raise ImageRejectedError(
            "unsupported_format",
            format=image.format or "?",
            allowed=", ".join(sorted(formats)),
        )
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRejectedError(
            "too_many_pixels",
            width=width,
            height=height,
            limit=f"{max_pixels / 1_000_000:g}",
        )
    if min(width, height) < min_side:
        raise ImageRejectedError(
            "too_small", width=width, height=height, limit=min_side
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
    except (
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        Image.DecompressionBombError,
    ):
        raise ImageRejectedError("corrupt") from None
    return image


def _upright_pixels(image: Image.Image) -> Image.Image:
    """Return the first frame, rotated as its EXIF says, as plain RGB or RGBA."""
    image.seek(0)
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError):  # unreadable EXIF: keep the pixels
        upright = image
    has_alpha = upright.mode in {"RGBA", "LA", "PA"} or (
        upright.mode == "P" and "transparency" in upright.info
    )
    converted = upright.convert("RGBA" if has_alpha else "RGB")
    # A fresh image built from the pixels alone carries no info/EXIF/ICC at all.
    clean = Image.new(converted.mode, converted.size)
    clean.paste(converted)
    return clean


def _encode(image: Image.Image) -> tuple[bytes, str]:
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, format="PNG", optimize=True)
        return out.getvalue(), "image/png"
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue(), "image/jpeg"
