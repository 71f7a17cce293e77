"""Every string a user can see is marked for translation and translated into zh-Hans:
templates carry no bare text, the catalogs hold every marked msgid (as makemessages
extracts them) with a finished translation, and each compiled .mo matches its .po."""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.test import override_settings

BASE_DIR = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(BASE_DIR.glob("templates/**/*.html")) + sorted(
    BASE_DIR.glob("*/templates/**/*.html")
)
CATALOGS = sorted(
    path
    for path in BASE_DIR.glob("**/locale/zh_Hans/LC_MESSAGES/*.po")
    if ".venv" not in path.parts
)
# Words that stay as they are in every language.
ALLOWED_TEXT = {"GLM Web", "GLM", "JSON", "Markdown", "ZhipuAI", "top_p"}
# Key caps name the keys as printed on every keyboard (Enter, Shift, Ctrl); script
# and style hold code.
UNREAD_ELEMENTS = {"script", "style", "kbd"}
# Attributes a user reads (or hears from a screen reader).
VISIBLE_ATTRIBUTES = {
    "title",
    "placeholder",
    "aria-label",
    "aria-description",
    "aria-roledescription",
    "aria-valuetext",
    "alt",
    "label",
    "data-confirm",
}
# An input whose value is its visible label.
LABELLED_INPUTS = {"submit", "button", "reset"}
LETTER = re.compile(r"[^\W\d_]")
# Stands in for a template tag or variable, which renders marked text or data.
HOLE = "\x00"
# Blocks whose text is translated as a whole, or never shown.
SKIPPED_BLOCKS = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
}
# Blocks a child template fills into an attribute or a URL, not into text.
NON_TEXT_BLOCKS = {"body_class", "main_class", "skip_target"}


class _VisibleText(HTMLParser):
    """Collect the text and visible attribute values of one template's HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.hidden_depth = 0  # inside one of UNREAD_ELEMENTS

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            if name in VISIBLE_ATTRIBUTES or (
                name == "value"
                and (tag == "button" or values.get("type") in LABELLED_INPUTS)
            ):
                self._keep(f'{name}="{value}"', value)
        if tag in UNREAD_ELEMENTS:
            self.hidden_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in UNREAD_ELEMENTS and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth:
            self._keep(data, data)

    def _keep(self, shown: str, text: str) -> None:
        for part in text.split(HOLE):
            part = part.strip()
            for word in sorted(ALLOWED_TEXT, key=len, reverse=True):
                part = part.replace(word, "")
            if LETTER.search(part):
                self.found.append(
                    (self.getpos()[0], shown.replace(HOLE, "{…}").strip())
                )


def _html_without_template_code(source: str) -> str:
    """Return the template's HTML with each tag and variable replaced by HOLE and the
    text of blocktranslate and comment blocks dropped."""
    parts: list[str] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        if closing is not None:
            if token.token_type == TokenType.BLOCK and token.contents.startswith(
                closing
            ):
                closing = None
            parts.append(HOLE + "\n" * token.contents.count("\n"))
            continue
        if token.token_type == TokenType.TEXT:
            parts.append(token.contents)
            continue
        if token.token_type == TokenType.BLOCK:
            bits = token.split_contents()
            closing = SKIPPED_BLOCKS.get(bits[0])
            if bits[0] == "block" and bits[1] in NON_TEXT_BLOCKS:
                closing = "endblock"
        # Keep line numbers: a tag may span lines.
        parts.append(HOLE + "\n" * token.contents.count("\n"))
    return "".join(parts)


def unmarked_text(source: str) -> list[tuple[int, str]]:
    """Return (line, text) for each piece of visible text not inside a translate tag."""
    parser = _VisibleText()
    parser.feed(_html_without_template_code(source))
    parser.close()
    return parser.found


@pytest.mark.parametrize(
    "template", TEMPLATES, ids=lambda p: str(p.relative_to(BASE_DIR))
)
def test_template_has_no_unmarked_text(template: Path):
    offenders = unmarked_text(template.read_text())
    assert not offenders, "Mark with {% translate %}:\n" + "\n".join(
        f"{template.relative_to(BASE_DIR)}:{line}: {text}" for line, text in offenders
    )


def test_unmarked_text_finds_bare_text_and_attributes():
    # The scanner itself: what it must catch and what it must let through.
    source = (
        '{% load i18n %}<p title="Bare title">Bare text {{ name }}</p>'
        "{% blocktranslate %}Marked {{ x }} text{% endblocktranslate %}"
        '<input type="submit" value="Send"><input type="text" value="data">'
        "{% comment %}A note{% endcomment %}{# another #}"
        "<script>const a = 'code';</script><b>{% translate 'Ok' %} · GLM Web</b>"
    )
    assert [text for _line, text in unmarked_text(source)] == [
        'title="Bare title"',
        "Bare text {…}",
        'value="Send"',
    ]


@pytest.fixture(scope="session")
def gettext_tools() -> None:
    """Skip without GNU gettext (msgfmt, xgettext), except in CI, where that fails."""
    if shutil.which("msgfmt") and shutil.which("xgettext"):
        return
    message = "GNU gettext is not installed (apt-get install gettext)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str = ""
    msgstr: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.msgctxt, self.msgid, self.msgid_plural)


def read_po(path: Path) -> list[Entry]:
    """Return the live (not obsolete) entries of a .po file, header excluded."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None  # the keyword the next "…" line continues

    def finish() -> None:
        nonlocal entry, target
        if target is not None and entry.msgid:
            entries.append(entry)
        entry, target = Entry(), None

    for line in [*path.read_text().splitlines(), ""]:
        line = line.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            if target is not None:
                finish()
            entry.fuzzy = "fuzzy" in line[2:].replace(",", " ").split()
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert target is not None, f"{path}: stray {line}"
            _append(entry, target, ast.literal_eval(line))
        else:
            keyword, literal = line.split(" ", 1)
            if keyword in {"msgctxt", "msgid"} and target and target[0] == "msgstr":
                finish()
            index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
            target = (keyword.split("[")[0], index)
            _append(entry, target, ast.literal_eval(literal))
    return entries


def _append(entry: Entry, target: tuple[str, int], text: str) -> None:
    keyword, index = target
    if keyword == "msgstr":
        while len(entry.msgstr) <= index:
            entry.msgstr.append("")
        entry.msgstr[index] += text
    else:
        setattr(entry, keyword, getattr(entry, keyword) + text)


@pytest.mark.parametrize(
    "catalog", CATALOGS, ids=lambda p: str(p.relative_to(BASE_DIR))
)
def test_catalog_has_no_untranslated_or_fuzzy_entry(catalog: Path):
    entries = read_po(catalog)
    assert entries
    unfinished = [
        f"{'fuzzy' if entry.fuzzy else 'untranslated'}: {entry.msgid!r}"
        for entry in entries
        if entry.fuzzy or not entry.msgstr or not all(entry.msgstr)
    ]
    assert not unfinished, f"{catalog.relative_to(BASE_DIR)}:\n" + "\n".join(unfinished)


@pytest.mark.parametrize(
    "catalog", CATALOGS, ids=lambda p: str(p.relative_to(BASE_DIR))
)
def test_compiled_catalog_matches_its_po(
    catalog: Path, tmp_path: Path, gettext_tools: None
):
    fresh = tmp_path / "fresh.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(catalog)], check=True)
    compiled = catalog.with_suffix(".mo")
    assert compiled.exists(), f"run: msgfmt -o {compiled} {catalog}"
    assert _messages(compiled) == _messages(fresh), (
        f"{compiled.relative_to(BASE_DIR)} is stale: msgfmt -o {compiled} {catalog}"
    )


def _messages(mo: Path) -> dict[object, str]:
    with mo.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def extracted(
    tmp_path_factory: pytest.TempPathFactory, gettext_tools: None
) -> dict[str, list[Entry]]:
    """Run makemessages over a copy of the sources (without their catalogs) and
    return the fresh entries by domain."""
    root = tmp_path_factory.mktemp("sources")
    skip = shutil.ignore_patterns("locale", "__pycache__", "migrations", "vendor")
    for name in ("chat", "media_jobs", "glmweb", "templates", "static"):
        shutil.copytree(BASE_DIR / name, root / name, ignore=skip)
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(root)
    try:
        with override_settings(LOCALE_PATHS=[root / "locale"]):
            for domain in ("django", "djangojs"):
                call_command(
                    "makemessages", locale=["zh_Hans"], domain=domain, verbosity=0
                )
    finally:
        monkeypatch.undo()
    found = root / "locale/zh_Hans/LC_MESSAGES"
    return {
        domain: read_po(found / f"{domain}.po") for domain in ("django", "djangojs")
    }


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_marked_string_is_in_a_catalog(
    extracted: dict[str, list[Entry]], domain: str
):
    # Django merges every catalog of a domain (the project's and each app's), so a
    # msgid may live in any of them.
    known = {
        entry.key
        for catalog in CATALOGS
        if catalog.stem == domain
        for entry in read_po(catalog)
    }
    marked = extracted[domain]
    assert len(marked) > 50
    missing = sorted(f"{entry.msgid!r}" for entry in marked if entry.key not in known)
    assert not missing, f"not in any {domain}.po catalog:\n" + "\n".join(missing)


SCRIPTS = sorted(
    path
    for folder in ("static/chat", "static/media_jobs", "static")
    for path in (BASE_DIR / folder).glob("*.js")
)
LITERAL = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)"""
# Where a script puts text in front of the user: a literal there must go through
# gettext() (which then sits between the sink and the quote, so it does not match).
TEXT_SINKS = re.compile(
    rf"""\.(?:textContent|innerText|title|placeholder|ariaLabel|alt)\s*=\s*({LITERAL})"""
    rf"""|setAttribute\(\s*["'](?:aria-label|title|placeholder|alt)["']\s*,\s*({LITERAL})"""
    rf"""|\b(?:showToast|alert|confirm)\(\s*({LITERAL})"""
    # One argument: FormData.append(name, value) takes two.
    rf"""|\.(?:append|prepend|before|after|replaceChildren)\(\s*({LITERAL})\s*\)"""
    rf"""|\bel\(\s*{LITERAL}\s*,\s*[^,()]*,\s*({LITERAL})"""
    rf"""|\bbutton\(\s*{LITERAL}\s*,\s*({LITERAL})"""
)


def unmarked_script_text(source: str) -> list[tuple[int, str]]:
    """Return (line, literal) for each literal with words a script shows unmarked."""
    found = []
    for match in TEXT_SINKS.finditer(source):
        literal = next(group for group in match.groups() if group is not None)
        text = re.sub(r"\$\{[^}]*\}", "", literal[1:-1])
        for word in sorted(ALLOWED_TEXT, key=len, reverse=True):
            text = text.replace(word, "")
        if LETTER.search(text):
            found.append((source.count("\n", 0, match.start()) + 1, literal))
    return found


def test_unmarked_script_text_finds_literals_shown_to_the_user():
    source = (
        'node.textContent = "Saved";\n'
        'node.title = gettext("Saved");\n'
        "list.append(el(\"li\", \"item\", `${n} · GLM Web`), el('b', '', 'Bare'));\n"
        'body.append("file", blob); note.append("Bare");\n'
        "showToast(`Deleted ${title}`);\n"
        'input.setAttribute("aria-label", gettext("New title"));\n'
    )
    assert unmarked_script_text(source) == [
        (1, '"Saved"'),
        (3, "'Bare'"),
        (4, '"Bare"'),
        (5, "`Deleted ${title}`"),
    ]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(BASE_DIR)))
def test_script_shows_no_unmarked_text(script: Path):
    offenders = unmarked_script_text(script.read_text())
    assert not offenders, "Wrap in gettext():\n" + "\n".join(
        f"{script.relative_to(BASE_DIR)}:{line}: {text}" for line, text in offenders
    )


CJK = re.compile(r"[\u4e00-\u9fff]")


def _bilingual_tables() -> dict[str, Mapping[str, tuple[str, str]]]:
    # Errors worded outside gettext keep (zh-hans, en) pairs side by side: the
    # platform's errors, the socket's refusals and the refused uploads (which are
    # worded outside requests).
    from chat import frames
    from chat.characters.cards import CardRejectedError
    from glmweb.images import ImageRejectedError
    from glmweb.videos import VideoRejectedError
    from glmweb.zhipu import wording

    return {
        "chat.frames._WORDING": frames._WORDING,
        "zhipu.wording._BY_KIND": wording._BY_KIND,
        "zhipu.wording._BY_CODE": wording._BY_CODE,
        "zhipu.wording._INTERRUPTED": {"interrupted": wording._INTERRUPTED},
        **{
            error.__name__: error.wording
            for error in (CardRejectedError, ImageRejectedError, VideoRejectedError)
        },
    }


@pytest.mark.parametrize("table", sorted(_bilingual_tables()))
def test_bilingual_error_table_has_chinese_and_english(table: str):
    entries = _bilingual_tables()[table]
    assert entries
    wrong = [
        f"{key}: {pair!r}"
        for key, pair in entries.items()
        if len(pair) != 2
        or not CJK.search(pair[0])
        or CJK.search(pair[1])
        or not LETTER.search(CJK.sub("", pair[1]))
    ]
    assert not wrong, f"{table} needs (zh-hans, en) pairs:\n" + "\n".join(wrong)
