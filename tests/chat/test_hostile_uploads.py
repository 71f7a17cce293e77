"""The hostile upload corpus (tests/hostile_files.py) at every chat door a file comes
in by: attachments (the JSON API), a character's avatar (a form) and a card import.

Each file is refused with a zh/en reason and nothing stored (no row, no file under
MEDIA_ROOT), or stored re-encoded under a generated name inside MEDIA_ROOT and served
as exactly those bytes with a safe type, nosniff and a clean Content-Disposition.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from chat.characters import cards
from chat.models import Attachment, Character
from glmweb import images
from tests import hostile_files
from tests.hostile_files import CORPUS, HostileFile

pytestmark = pytest.mark.django_db

IDS = [entry.id for entry in CORPUS]
CJK = re.compile(r"[\u4e00-\u9fff]")
FIELD_ERROR = re.compile(r'class="field-errors"[^>]*>(.*?)</div>', re.S)


@pytest.fixture
def limits(settings, media_root, monkeypatch):
    """The corpus's limits at every chat door; return MEDIA_ROOT."""
    settings.GLMWEB_MAX_UPLOAD_BYTES = hostile_files.MAX_BYTES
    settings.IMAGE_MAX_UPLOAD_BYTES = hostile_files.MAX_BYTES
    settings.IMAGE_MAX_PIXELS = hostile_files.MAX_PIXELS
    monkeypatch.setattr(cards, "MAX_CARD_BYTES", hostile_files.MAX_BYTES)
    return media_root


def language(entry: HostileFile) -> str:
    # Half the corpus asks in Chinese, half in English: both wordings get exercised.
    return "zh-hans" if CORPUS.index(entry) % 2 == 0 else "en"


def assert_nothing_stored_by_the_parser(response, root: Path) -> None:
    assert response.status_code == 400
    assert b"Bad Request (400)" in response.content
    assert Attachment.objects.count() == 0 and Character.objects.count() == 0
    assert stored_files(root) == []


def assert_worded_in(message: str, lang: str) -> None:
    assert message.strip()
    assert bool(CJK.search(message)) == (lang == "zh-hans"), message


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_stored_under_a_generated_name(root: Path, name: str, pattern: str) -> bytes:
    """Assert storage `name` is generated and inside `root`; return its bytes."""
    assert re.fullmatch(pattern, name), name
    path = (root / name).resolve()
    assert path.is_relative_to(root.resolve())
    return path.read_bytes()


def assert_clean_display_name(name: str) -> None:
    assert name and len(name) <= 200
    assert not re.search(r"[/\\\x00-\x1f\x7f]", name), name


def post_file(client, url, fields, file_field, entry, data, lang):
    body, content_type = hostile_files.multipart(fields, file_field, entry, data)
    return client.post(
        url, body, content_type=content_type, headers={"accept-language": lang}
    )


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_attachment_upload_refuses_or_reencodes_every_hostile_file(
    alice_client, limits, entry
):
    lang = language(entry)
    response = post_file(
        alice_client, "/api/attachments/", {}, "file", entry, entry.data, lang
    )

    outcome = hostile_files.expected(entry, frozenset({"PNG", "JPEG", "WEBP", "GIF"}))
    if outcome == "unparsable":
        return assert_nothing_stored_by_the_parser(response, limits)
    if outcome == "refused":
        assert response.status_code in (400, 413), response.content
        assert_worded_in(response.json()["error"]["message"], lang)
        assert Attachment.objects.count() == 0
        assert stored_files(limits) == []
        return
    assert response.status_code == 201, response.content
    row = Attachment.objects.get()
    assert_clean_display_name(row.name)
    stored = assert_stored_under_a_generated_name(
        limits,
        row.file.name,
        rf"chat/attachments/{row.owner_id}/[0-9a-f]{{32}}\.(png|jpg)",
    )
    hostile_files.is_reencoded_image(stored)
    body = response.json()["attachment"]
    hostile_files.assert_safe_download_headers(alice_client.get(body["url"]), stored)
    thumbnail = alice_client.get(body["thumbnail_url"])
    hostile_files.assert_safe_download_headers(thumbnail, row.thumbnail.read())


AVATAR_FORM = {"name": "Pic", "default_model": "charglm-4", "visibility": "private"}


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_character_avatar_refuses_or_reencodes_every_hostile_file(
    alice_client, limits, entry
):
    lang = language(entry)
    response = post_file(
        alice_client,
        "/characters/new/",
        AVATAR_FORM,
        "avatar_upload",
        entry,
        entry.data,
        lang,
    )

    outcome = hostile_files.expected(entry, images.DEFAULT_FORMATS)
    if outcome == "unparsable":
        return assert_nothing_stored_by_the_parser(response, limits)
    if outcome == "refused":
        assert response.status_code == 400
        errors = FIELD_ERROR.findall(response.content.decode())
        assert len(errors) == 1
        assert_worded_in(errors[0], lang)
        assert Character.objects.count() == 0
        assert stored_files(limits) == []
        return
    assert response.status_code == 302, response.content
    character = Character.objects.get()
    assert_avatar_is_safe(alice_client, limits, character)


def assert_avatar_is_safe(client, root: Path, character: Character) -> None:
    stored = assert_stored_under_a_generated_name(
        root,
        character.avatar.name,
        rf"characters/{character.pk}/[0-9a-f]{{32}}\.(png|jpg)",
    )
    hostile_files.is_reencoded_image(stored)
    served = client.get(f"/characters/{character.pk}/avatar/")
    hostile_files.assert_safe_download_headers(served, stored)


CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {"name": "Hostile", "description": "a test card", "first_mes": "Hi."},
}


def as_card(data: bytes) -> bytes:
    """Return a PNG with a V2 card in a `chara` chunk right after IHDR (whatever
    follows, a bomb's pixels or a polyglot's tail, stays as it was); other bytes as
    they are."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    text = b"chara\0" + base64.b64encode(json.dumps(CARD).encode())
    return data[:33] + hostile_files._png_chunk(b"tEXt", text) + data[33:]


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_card_import_refuses_or_reencodes_every_hostile_file(
    alice_client, limits, entry
):
    lang = language(entry)
    data = as_card(entry.data)
    response = post_file(
        alice_client, "/characters/import/", {}, "card", entry, data, lang
    )

    # Only a PNG can carry a card; anything else is refused as no card at all.
    outcome = hostile_files.expected(entry, images.DEFAULT_FORMATS)
    if outcome == "unparsable":
        return assert_nothing_stored_by_the_parser(response, limits)
    if not data.startswith(b"\x89PNG") or outcome == "refused":
        assert response.status_code == 400
        errors = FIELD_ERROR.findall(response.content.decode())
        assert len(errors) == 1
        assert_worded_in(errors[0], lang)
        assert Character.objects.count() == 0
        assert stored_files(limits) == []
        return
    assert response.status_code == 302, response.content
    character = Character.objects.get()
    assert character.name == "Hostile"
    assert_avatar_is_safe(alice_client, limits, character)


def test_admin_offers_no_avatar_upload_around_the_normaliser(
    client, user, make_character, django_user_model
):
    # The admin's change form is a file door too: an avatar set there would skip
    # glmweb/images.py and keep the uploader's extension.
    character = make_character(user)
    admin = django_user_model.objects.create_superuser("root", password="pw-12345-x")
    client.force_login(admin)

    page = client.get(f"/admin/chat/character/{character.pk}/change/")

    assert page.status_code == 200
    assert b'name="name"' in page.content
    assert b'type="file"' not in page.content
