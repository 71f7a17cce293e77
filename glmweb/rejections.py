"""What a refused upload says: the one shape of glmweb.images.ImageRejectedError,
glmweb.videos.VideoRejectedError and chat.characters.cards.CardRejectedError.

    class VideoRejectedError(RejectedUpload):
        wording = {"too_long": ("视频太长（{seconds} 秒）", "Too long ({seconds} s)")}

    error = VideoRejectedError("too_long", seconds="90")
    error.code                      # "too_long": stable, for tests, logs and API bodies
    error.params                    # {"seconds": "90"}
    error.user_message("zh-hans")   # Simplified Chinese for "zh*", English otherwise
    str(error)                      # the English wording

Both languages stand side by side in each kind's table and the caller passes the
user's language, so the checks need no active translation (they also run outside a
request: the card importer, tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class RejectedUpload(ValueError):
    """A file a user gave was refused; `code` says why, `user_message()` tells them."""

    # code -> (zh-hans, en); {placeholders} come from the error's params.
    wording: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(self.user_message("en"))

    def user_message(self, language: str = "zh-hans") -> str:
        """Return the reason for the end user: Simplified Chinese for "zh*", else
        English."""
        chinese = language.lower().startswith("zh")
        zh, en = self.wording[self.wording_key()]
        return (zh if chinese else en).format(**self.wording_params(chinese))

    def wording_key(self) -> str:
        """Return the entry of `wording` that says why (the code, unless a kind
        words one code in more than one way)."""
        return self.code

    def wording_params(self, chinese: bool) -> Mapping[str, Any]:
        """Return the placeholders' values (a kind may translate some of them)."""
        return self.params
