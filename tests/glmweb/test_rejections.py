"""The one wording rule of refused uploads (images, videos, character cards)."""

from __future__ import annotations

import pytest

from chat.characters.cards import CardRejectedError
from glmweb.images import ImageRejectedError
from glmweb.rejections import RejectedUpload
from glmweb.videos import VideoRejectedError


class SampleRejected(RejectedUpload):
    wording = {"too_long": ("视频太长（{seconds} 秒）", "Too long ({seconds} s)")}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", "视频太长（90 秒）"),
        ("zh-Hant", "视频太长（90 秒）"),
        ("ZH", "视频太长（90 秒）"),
        ("en", "Too long (90 s)"),
        ("en-us", "Too long (90 s)"),
        ("fr", "Too long (90 s)"),
    ],
)
def test_the_users_language_picks_the_wording(language, expected):
    assert SampleRejected("too_long", seconds=90).user_message(language) == expected


def test_the_code_params_and_english_text_travel_with_the_error():
    error = SampleRejected("too_long", seconds="90")

    assert (error.code, error.params) == ("too_long", {"seconds": "90"})
    assert str(error) == "Too long (90 s)"
    assert isinstance(error, ValueError)


def test_every_refused_upload_kind_has_the_one_shape():
    errors = [
        ImageRejectedError("corrupt"),
        VideoRejectedError("not_a_video"),
        CardRejectedError("wrong_type", field="name", expected="text"),
    ]

    for error in errors:
        assert isinstance(error, RejectedUpload)
        assert error.user_message("zh-hans") != error.user_message("en") == str(error)
    assert "expected text" in errors[2].user_message("en")
    assert "应为文本" in errors[2].user_message("zh-hans")
