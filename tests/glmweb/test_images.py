"""The shared image normaliser (glmweb/images.py) on real encoded files."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image

from glmweb import images


def encoded(image: Image.Image, fmt: str, **save_args) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **save_args)
    return out.getvalue()


def jpeg_with_exif(width: int = 40, height: int = 20) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0)}  # GPS IFD
    return encoded(image, "JPEG", exif=exif.tobytes())


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming `width` x `height` whose pixel data is a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_normalise_image_strips_exif_and_applies_its_orientation():
    result = images.normalise_image(jpeg_with_exif(40, 20))

    assert result.content_type == "image/jpeg" and result.extension == ".jpg"
    assert (result.width, result.height) == (20, 40)  # turned upright
    with Image.open(io.BytesIO(result.data)) as reopened:
        assert reopened.format == "JPEG"
        assert len(reopened.getexif()) == 0
        assert "exif" not in reopened.info and "icc_profile" not in reopened.info
    assert b"SecretCam" not in result.data
    assert result.source_format == "JPEG"


def test_normalise_image_keeps_transparency_as_png_and_builds_a_data_url():
    image = Image.new("RGBA", (8, 8), (0, 0, 255, 128))
    result = images.normalise_image(encoded(image, "WEBP", lossless=True))

    assert result.content_type == "image/png"
    assert result.data_url().startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(result.data)) as reopened:
        assert reopened.mode == "RGBA"
        assert reopened.getpixel((0, 0))[3] == 128


def test_normalise_image_reads_a_file_object_from_its_start():
    data = encoded(Image.new("RGB", (5, 5)), "PNG")
    handle = io.BytesIO(data)
    handle.read()  # left at the end, as after an earlier read

    assert images.normalise_image(handle).width == 5


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%PDF-1.7 not an image", "not_an_image"),
        (b"", "not_an_image"),
        (encoded(Image.new("RGB", (64, 64), (1, 2, 3)), "PNG")[:60], "corrupt"),
        (encoded(Image.new("RGB", (4, 4)), "TIFF"), "unsupported_format"),
    ],
)
def test_normalise_image_rejects_bad_files_with_a_stable_code(data, code):
    with pytest.raises(images.ImageRejectedError) as caught:
        images.normalise_image(data)

    assert caught.value.code == code


@pytest.mark.parametrize(
    ("width", "height", "shown"),
    [(10_000, 9_000, "10000×9000"), (100_000, 100_000, "40 megapixels")],
)
def test_normalise_image_refuses_a_pixel_bomb_from_its_header_alone(
    width, height, shown
):
    bomb = png_header_only(width, height)  # a few dozen bytes on disk

    with pytest.raises(images.ImageRejectedError) as caught:
        images.normalise_image(bomb, max_pixels=40_000_000)

    assert caught.value.code == "too_many_pixels"
    assert shown in caught.value.user_message("en")
    assert "百万像素" in caught.value.user_message("zh-hans")


def test_normalise_image_refuses_an_upload_over_the_byte_limit_before_reading():
    class Upload(io.BytesIO):
        size = 50 * 1024 * 1024

        def read(self, *args):  # pragma: no cover - must not be called
            raise AssertionError("read a too-large upload")

    with pytest.raises(images.ImageRejectedError) as caught:
        images.normalise_image(Upload(), max_bytes=20 * 1024 * 1024)

    assert caught.value.code == "too_large"
    assert caught.value.user_message("en").startswith("The image file is too large")
    assert caught.value.user_message("zh-hans").startswith("图片文件太大")


def test_normalise_image_rejects_too_small_images():
    with pytest.raises(images.ImageRejectedError) as caught:
        images.normalise_image(encoded(Image.new("RGB", (3, 90)), "PNG"), min_side=16)

    assert caught.value.code == "too_small"


def test_normalise_image_scales_down_to_fit_the_output_limits():
    pixels = random.Random(4).randbytes(1200 * 900 * 3)
    noise = Image.frombytes("RGB", (1200, 900), pixels)

    result = images.normalise_image(
        encoded(noise, "PNG"), max_side=1000, max_output_bytes=150_000
    )

    assert max(result.width, result.height) <= 1000
    assert len(result.data) <= 150_000
    assert result.width / result.height == pytest.approx(1200 / 900, rel=0.02)
