"""The chat page's scripts take every URL from the page data and every string they
show from the djangojs catalog (docs/chat.md, "The page")."""

from __future__ import annotations

import gettext
import re
import uuid
from pathlib import Path

import pytest
from django.urls import resolve

from chat import views
from chat.routing import websocket_urlpatterns

BASE_DIR = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(
    [
        *(BASE_DIR / "static/chat").glob("*.js"),
        *(BASE_DIR / "static/media_jobs").glob("*.js"),
    ]
)
CHAT_SCRIPTS = [path for path in SCRIPTS if path.parent.name == "chat"]
CATALOG = BASE_DIR / "locale/zh_Hans/LC_MESSAGES/djangojs.mo"

# A quoted string, template literal or a `${host}` part followed by one of the app's
# paths.
APP_PATH = re.compile(
    r"""["'`}]/(?:api|c|ws|videos|accounts|admin|i18n|jsi18n|healthz)(?:[/"'`$?]|$)"""
)
STRING = r'"((?:[^"\\]|\\.)*)"'
GETTEXT = re.compile(rf"\bgettext\(\s*{STRING}\s*\)")
NGETTEXT = re.compile(rf"\bngettext\(\s*{STRING},\s*{STRING},")
ANY_CALL = re.compile(r"\b(n?gettext)\(")


def _unescape(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal)


def _script_msgids() -> set[str | tuple[str, str]]:
    msgids: set[str | tuple[str, str]] = set()
    for path in CHAT_SCRIPTS:
        if path.name == "i18n.js":  # the wrappers themselves
            continue
        source = path.read_text()
        found = [_unescape(m.group(1)) for m in GETTEXT.finditer(source)]
        plurals = [
            (_unescape(m.group(1)), _unescape(m.group(2)))
            for m in NGETTEXT.finditer(source)
        ]
        calls = len(ANY_CALL.findall(source))
        # A msgid built at run time would be missed by makemessages (and by this test).
        assert calls == len(found) + len(plurals), (
            f"{path.name}: gettext() takes a literal msgid"
        )
        msgids.update(found)
        msgids.update(plurals)
    return msgids


def test_scripts_write_no_app_url():
    offenders = [
        f"{path.relative_to(BASE_DIR)}:{number}: {line.strip()}"
        for path in SCRIPTS
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if APP_PATH.search(line)
    ]
    assert not offenders, "URLs come from the page data:\n" + "\n".join(offenders)


def test_every_script_string_is_translated_in_the_zh_hans_catalog():
    msgids = _script_msgids()
    assert "Copy" in msgids and len(msgids) > 50
    with CATALOG.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    untranslated = sorted(
        str(msgid)
        for msgid in msgids
        if not (
            catalog.get((msgid[0], 0))
            if isinstance(msgid, tuple)
            else catalog.get(msgid)
        )
    )
    assert not untranslated, (
        "run makemessages -d djangojs -l zh_Hans, translate, compile:\n"
        + "\n".join(untranslated)
    )
    # And the catalog holds nothing the scripts no longer show.
    shown = {m[0] if isinstance(m, tuple) else m for m in msgids}
    stale = sorted(
        key if isinstance(key, str) else key[0]
        for key in catalog
        if key and (key if isinstance(key, str) else key[0]) not in shown
    )
    assert not stale, "obsolete msgids in djangojs.po: " + ", ".join(stale)


# Every URL of the page data but the socket's (which is not in the URLconf), and the
# view it must reach.
VIEW_OF = {
    "page": "chat:index",
    "conversation_page": "chat:conversation",
    "conversations": "chat:api_conversations",
    "conversation": "chat:api_conversation",
    "conversation_restore": "chat:api_conversation_restore",
    "conversation_messages": "chat:api_conversation_messages",
    "export_md": "chat:api_export_markdown",
    "export_json": "chat:api_export_json",
    "greeting": "chat:api_conversation_greeting",
    "presets": "chat:api_presets",
    "preset": "chat:api_preset",
    "attachments": "chat:api_attachments",
    "attachment": "chat:api_attachment",
    "attachment_copy": "chat:api_attachment_copy",
    "video_form": "media_jobs:index",
}
INT_IDS = {"preset", "attachment", "attachment_copy"}


@pytest.mark.parametrize(("name", "view_name"), VIEW_OF.items())
def test_page_urls_resolve_to_their_views(name, view_name):
    template = views.page_urls()[name]
    sample = "17" if name in INT_IDS else str(uuid.uuid4())
    match = resolve(template.replace("{id}", sample))
    assert match.view_name == view_name
    assert ("{id}" in template) == bool(match.kwargs)


def test_every_page_url_is_checked_and_every_one_the_scripts_name_exists():
    assert set(VIEW_OF) == set(views.page_urls()) - {"socket"}
    named = {
        name
        for path in CHAT_SCRIPTS
        for name in re.findall(r'\burl\("([a-z_]+)"', path.read_text())
    }
    assert named, "no url(...) call found: the pattern no longer matches the scripts"
    assert named <= set(views.page_urls()), named - set(views.page_urls())


def test_page_socket_url_reaches_the_chat_consumer():
    conversation_id = str(uuid.uuid4())
    path = views.page_urls()["socket"].replace("{id}", conversation_id)
    assert path.startswith("/")
    match = websocket_urlpatterns[0].pattern.match(path[1:])
    assert match and match[2]["conversation_id"] == conversation_id
