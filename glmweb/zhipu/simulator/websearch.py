"""The `web_search` chat tool: deterministic "search results" and their citation."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

DEFAULT_COUNT = 3
MAX_COUNT = 10
FALSE_STRINGS = {"false", "0", "no", "off"}


def _truthy(value: Any, default: bool) -> bool:
    # zai-sdk's own example sends "True"/"5" strings; the platform tolerates them.
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_STRINGS
    return bool(value)


def search_options(tools: Any) -> dict[str, Any] | None:
    """Return the web_search tool's options if the request searches, else None.

    A web_search tool searches unless `enable` is false, and its results come back
    unless `search_result` is false (docs/simulator.md explains both defaults).
    """
    if not isinstance(tools, list):
        return None
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") == "web_search":
            options = tool.get("web_search") or {}
            if not isinstance(options, dict):
                options = {}
            if not _truthy(options.get("enable"), True):
                return None
            return options
    return None


def search_results(
    options: dict[str, Any], user_text: str
) -> list[dict[str, str]] | None:
    """Return the top-level `web_search` items, or None when results are not wanted."""
    if not _truthy(options.get("search_result"), True):
        return None
    query = str(options.get("search_query") or user_text or "GLM")[:70]
    try:
        count = int(options.get("count") or DEFAULT_COUNT)
    except (TypeError, ValueError):
        count = DEFAULT_COUNT
    count = max(1, min(count, MAX_COUNT))
    return [
        {
            "icon": "",
            "title": f"Simulated result {number} for {query}",
            "link": f"https://example.com/glm-simulator/search/{number}?q={quote(query)}",
            "media": "GLM Simulator",
            "publish_date": "2025-01-01",
            "content": f"Simulated search content {number} about {query}.",
            "refer": f"ref_{number}",
        }
        for number in range(1, count + 1)
    ]


MAX_ECHOED = 50


def echoed_results(text: str) -> list[dict[str, str]]:
    """Return one result per non-blank line of `text`, every field that line, so a
    test can make "the search engine" return any title, snippet or link it wants
    rendered (the `search_echo` directive)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [
        {
            "icon": line,
            "title": line,
            "link": line,
            "media": line,
            "publish_date": line,
            "content": line,
            "refer": f"ref_{number}",
        }
        for number, line in enumerate(lines[:MAX_ECHOED], start=1)
    ]


def citation(*, zh: bool, count: int = 1) -> str:
    """Return the sentence that cites the first results (`[ref_1]`, and `[ref_2]` when
    there are two or more), as the platform's text does."""
    markers = "".join(f"[ref_{n}]" for n in range(1, min(count, 2) + 1))
    return (
        f"根据搜索结果{markers}，"
        if zh
        else f"According to the search results {markers},"
    )
