"""Citation markers in web-search answers, as the Markdown export turns them into
footnotes (the page does the same in static/chat/citations.js).

The platform cites a search result by its `refer` tag ("ref_1") written in the text
as `[ref_1]`, or in full-width brackets `【ref_1】`; several may be listed in one
bracket (`[ref_1, ref_2]`). A marker whose tag names none of the reply's sources is
left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MARKER_RE = re.compile(
    r"[\[【]\s*(ref_\d+(?:\s*[,，]\s*ref_\d+)*)\s*[\]】]", re.IGNORECASE
)
_TAG_RE = re.compile(r"ref_\d+", re.IGNORECASE)


def numbers(sources: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Return each source's tag ("ref_1", lower case) -> its number in the list."""
    found: dict[str, int] = {}
    for index, item in enumerate(sources, start=1):
        refer = str(item.get("refer") or "").strip().lower()
        if refer and refer not in found:
            found[refer] = index
    return found


def to_footnotes(text: str, sources: Sequence[dict[str, Any]]) -> str:
    """Return `text` with each marker naming a source written `[^n]`."""
    known = numbers(sources)
    if not known:
        return text

    def replace(match: re.Match[str]) -> str:
        tags = [tag.lower() for tag in _TAG_RE.findall(match.group(1))]
        if not all(tag in known for tag in tags):
            return match.group(0)
        return "".join(f"[^{known[tag]}]" for tag in tags)

    return MARKER_RE.sub(replace, text)
