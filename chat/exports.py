"""A conversation exported as Markdown (what the page shows) or as JSON (everything).

The Markdown export is the visible conversation, a readable transcript. The JSON
export is complete: superseded messages (hidden by regenerate or edit) and every
summary are included, marked `"superseded": true` / `"active": false`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext as _

from chat import citations, conversations, versions
from chat.models import Conversation, Message
from chat.serializers import conversation_dict, error_text, message_dict, summary_dict

EXPORT_FORMAT = "glmweb.conversation"
EXPORT_VERSION = 1
# Context "export", so these short words never clash with the page's own strings.
LABELS = {
    "untitled": pgettext_lazy("export", "Untitled conversation"),
    "model": pgettext_lazy("export", "Model"),
    "created": pgettext_lazy("export", "Created"),
    "exported": pgettext_lazy("export", "Exported"),
    "system_prompt": pgettext_lazy("export", "System prompt"),
    "user": pgettext_lazy("export", "User"),
    "assistant": pgettext_lazy("export", "Assistant"),
    "thinking": pgettext_lazy("export", "Thinking"),
    "sources": pgettext_lazy("export", "Sources"),
    "tool": pgettext_lazy("export", "Tool"),
}

# A tool output's fields, in the order the export quotes them.
_TOOL_OUTPUT_FIELDS = ("title", "link", "content", "logs", "image", "error")


def filename(conversation: Conversation, extension: str) -> str:
    """Return a download name such as `rust-lifetimes-2026-01-16.md`."""
    stem = slugify(conversation.title, allow_unicode=True)[:60] or "conversation"
    day = timezone.localtime(conversation.created_at).date().isoformat()
    return f"{stem}-{day}.{extension}"


def _when(moment: datetime) -> str:
    # In the reader's language: "2026年1月16日 09:30", "Jan. 16, 2026, 9:30 a.m.".
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _status_note(message: Message, language: str) -> str:
    if message.status == Message.Status.STOPPED:
        return _("(Stopped by the user.)")
    if message.error_code:
        return _("(Error: %(message)s)") % {
            "message": error_text(
                message.error_code,
                message.error_upstream_code,
                bool(message.content) and message.status == Message.Status.INTERRUPTED,
                language,
            )
        }
    if message.status == Message.Status.STREAMING:
        return _("(Still being written when exported.)")
    return ""


def _escape_label(text: str) -> str:
    """Return a source's title as Markdown text (one line): brackets cannot end its
    link and markup in it is not markup (a search result is untrusted)."""
    text = " ".join(str(text).split())
    return re.sub(r"([\\\[\]<>])", r"\\\1", text)


def _source_line(number: int, item: dict[str, Any]) -> str:
    link = str(item.get("link") or "")
    label = _escape_label(item.get("title") or link or item.get("refer") or "")
    # Only web addresses become links: a source is what a search engine returned.
    if re.match(r"^https?://", link, re.IGNORECASE) and not re.search(
        r"[\s()<>]", link
    ):
        text = f"[{label}]({link})"
    else:
        text = label
    extra = " · ".join(
        " ".join(str(item.get(key) or "").split())
        for key in ("media", "publish_date")
        if item.get(key)
    )
    return f"[^{number}]: {text}" + (f" · {extra}" if extra else "")


def _version_note(message: Message) -> str:
    ids = versions.version_ids(message)
    if len(ids) < 2 or message.pk not in ids:
        return ""
    return _(
        "(Version %(index)s of %(count)s, the one shown when exported; the JSON "
        "export has the others.)"
    ) % {"index": ids.index(message.pk) + 1, "count": len(ids)}


def _tool_lines(call: dict[str, Any]) -> list[str]:
    """Return an agent's tool run as a quoted block: its name, input and outputs,
    as text (the platform's, untrusted: quoted, never markup of ours)."""
    name = _escape_label(str(call.get("type") or "?"))
    lines = [f"> **{LABELS['tool']}: {name}**"]
    if call.get("input"):
        lines += [">", _quote(str(call["input"]))]
    for output in call.get("outputs") or []:
        for field in _TOOL_OUTPUT_FIELDS:
            if output.get(field):
                lines += [">", _quote(f"{field}: {output[field]}")]
    return [*lines, ""]


def to_markdown(conversation: Conversation) -> str:
    """Return the visible conversation as a Markdown document."""
    language = get_language() or "zh-hans"
    title = conversation.title or str(LABELS["untitled"])
    lines = [
        f"# {title}",
        "",
        f"- {LABELS['model']}: {conversation.model}",
        f"- {LABELS['created']}: {_when(conversation.created_at)}",
        f"- {LABELS['exported']}: {_when(timezone.now())}",
    ]
    if conversation.system_prompt:
        lines += [
            "",
            f"**{LABELS['system_prompt']}**",
            "",
            _quote(conversation.system_prompt),
        ]
    for message in conversations.visible_messages(conversation):
        if message.role == Message.Role.USER:
            heading = f"## {LABELS['user']} · {_when(message.created_at)}"
        else:
            heading = (
                f"## {LABELS['assistant']} · {message.model or conversation.model}"
            )
            heading += f" · {_when(message.created_at)}"
        lines += ["", "---", "", heading, ""]
        if message.reasoning:
            lines += [
                f"> **{LABELS['thinking']}**",
                ">",
                _quote(message.reasoning),
            ]
            lines.append("")
        for call in message.tool_calls or []:
            lines += _tool_lines(call)
        sources = message.web_search or []
        lines.append(citations.to_footnotes(message.content, sources))
        if sources:
            # Every source as a numbered footnote: the text's markers point at
            # them, and unused ones are still listed (what the search returned).
            lines += ["", f"**{LABELS['sources']}**", ""]
            lines += [_source_line(n, item) for n, item in enumerate(sources, 1)]
        for note in (_version_note(message), _status_note(message, language)):
            if note:
                lines += ["", f"*{note}*"]
    return "\n".join(lines).rstrip() + "\n"


def to_json(conversation: Conversation) -> dict[str, Any]:
    """Return the whole conversation, hidden turns and summaries included."""
    language = get_language() or "zh-hans"
    active_ids = {s.pk for s in conversations.active_summaries(conversation)}
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "conversation": {
            **conversation_dict(conversation),
            "title_is_auto": conversation.title_is_auto,
        },
        "messages": [
            {**message_dict(message, language), "superseded": message.superseded}
            for message in conversations.all_messages(conversation)
        ],
        "summaries": [
            {**summary_dict(summary), "active": summary.pk in active_ids}
            for summary in conversation.summaries.order_by("created_at", "id")
        ],
    }
