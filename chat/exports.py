"""A conversation exported as Markdown (what the page shows) or as JSON (everything).

The Markdown export is the visible conversation, a readable transcript. The JSON
export is complete: superseded messages (hidden by regenerate or edit) and every
summary are included, marked `"superseded": true` / `"active": false`.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext as _

from chat import conversations
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
}


def filename(conversation: Conversation, extension: str) -> str:
    """Return a download name such as `rust-lifetimes-2026-01-16.md`."""
    stem = slugify(conversation.title, allow_unicode=True)[:60] or "conversation"
    day = timezone.localtime(conversation.created_at).date().isoformat()
    return f"{stem}-{day}.{extension}"


def _when(message: Message) -> str:
    return timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M")


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


def to_markdown(conversation: Conversation) -> str:
    """Return the visible conversation as a Markdown document."""
    language = get_language() or "zh-hans"
    title = conversation.title or str(LABELS["untitled"])
    lines = [
        f"# {title}",
        "",
        f"- {LABELS['model']}: {conversation.model}",
        f"- {LABELS['created']}: "
        f"{timezone.localtime(conversation.created_at):%Y-%m-%d %H:%M}",
        f"- {LABELS['exported']}: {timezone.localtime():%Y-%m-%d %H:%M}",
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
            heading = f"## {LABELS['user']} · {_when(message)}"
        else:
            heading = (
                f"## {LABELS['assistant']} · {message.model or conversation.model}"
            )
            heading += f" · {_when(message)}"
        lines += ["", "---", "", heading, ""]
        if message.reasoning:
            lines += [
                f"> **{LABELS['thinking']}**",
                ">",
                _quote(message.reasoning),
            ]
            lines.append("")
        lines.append(message.content)
        if message.web_search:
            lines += ["", f"**{LABELS['sources']}**", ""]
            for item in message.web_search:
                label = item.get("title") or item.get("link") or ""
                link = item.get("link") or ""
                lines.append(f"- [{label}]({link})" if link else f"- {label}")
        note = _status_note(message, language)
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
