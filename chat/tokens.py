"""A conservative token estimate, because there is no GLM tokenizer here.

GLM's tokenizer packs about 1.5-2 Chinese characters or about 4 English characters
into a token. The estimate counts every CJK character (and any other character outside
the Basic Multilingual Plane, such as emoji) as a whole token and every 3 other
characters as one, so it overestimates: history trimmed to fit the estimate fits the
real context too.
"""

from __future__ import annotations

import math
import re

# CJK punctuation, kana, CJK ideographs (and extension A), Hangul, compatibility
# ideographs, full-width forms, and everything past the BMP.
_WIDE = re.compile(
    "[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\uff00-\uffef\U00010000-\U0010ffff]"
)
# The chat format's own cost of a message (role and separators).
PER_MESSAGE = 4


def estimate(text: str) -> int:
    """Return an upper estimate of the tokens in `text`."""
    wide = len(_WIDE.findall(text))
    return wide + math.ceil((len(text) - wide) / 3)


def estimate_message(content: str) -> int:
    """Return an upper estimate of the tokens a chat message with `content` costs."""
    return estimate(content) + PER_MESSAGE
