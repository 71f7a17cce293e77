"""Character Card import and export (chat/characters/cards.py and the import page):
V2 PNG cards built with Pillow as the spec describes round-trip field for field, V3
and V1 are read, and hostile cards are refused with a reason in the user's language
and nothing stored."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chat.characters import cards
from chat.models import Character
from tests.chat.conftest import png_card

V2_CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Seraphina",
        "description": "{{char}} is a guardian of the forest glade. 她会说中文。",
        "personality": "kind, protective",
        "scenario": "{{user}} wakes up in {{char}}'s cottage.",
        "first_mes": "*Seraphina smiles.* You're awake, {{user}}.",
        "mes_example": "<START>\n{{user}}: Who are you?\n{{char}}: A friend.",
        "creator_notes": "Made for testing.",
        "system_prompt": "Write vividly. {{original}}",
        "post_history_instructions": "Stay in character.",
        "alternate_greetings": ["The fire crackles.", "Rain taps the window."],
        "character_book": {
            "name": "Glade lore",
            "extensions": {},
            "entries": [
                {
                    "keys": ["glade"],
                    "content": "The glade is enchanted.",
                    "extensions": {},
                    "enabled": True,
                    "insertion_order": 0,
                }
            ],
        },
        "tags": ["fantasy", "奇幻"],
        "creator": "someone",
        "character_version": "1.2",
        "extensions": {"talkativeness": "0.5", "depth_prompt": {"depth": 4}},
    },
}


def _chunks(data: bytes) -> dict[str, bytes]:
    found, at = {}, 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"tEXt":
            key, _, text = data[at + 8 : at + 8 + length].partition(b"\0")
            found[key.decode()] = text
        at += 12 + length
    return found


def test_v2_png_card_built_with_pillow_round_trips_field_for_field(user, media_root):
    from chat.characters import services

    character = services.import_card(user, png_card(V2_CARD))
    character.refresh_from_db()
    assert character.name == "Seraphina"
    assert character.greeting == V2_CARD["data"]["first_mes"]
    assert character.alternate_greetings == V2_CARD["data"]["alternate_greetings"]
    assert character.example_dialogue == V2_CARD["data"]["mes_example"]
    assert character.tags == ["fantasy", "奇幻"]
    assert character.visibility == "private" and character.default_model == "charglm-4"
    assert character.avatar.name.startswith(f"characters/{character.pk}/")

    exported = cards.card_v2(character)
    assert exported == V2_CARD  # every field back, the unused ones too

    # The PNG export carries the same card in its `chara` chunk, and is a picture.
    png = cards.card_png_bytes(character, services.read_avatar(character))
    assert json.loads(base64.b64decode(_chunks(png)["chara"])) == V2_CARD
    assert Image.open(io.BytesIO(png)).size == (48, 64)
    again = services.import_card(user, png)
    assert cards.card_v2(again) == V2_CARD


def test_our_user_role_rides_in_extensions_and_comes_back(user, media_root):
    from chat.characters import services

    character = services.import_card(user, json.dumps(V2_CARD).encode())
    character.user_name, character.user_info = "Ada", "A travelling scholar."
    exported = cards.card_v2(character)
    assert exported["data"]["extensions"]["glmweb"] == {
        "user_name": "Ada",
        "user_info": "A travelling scholar.",
    }
    again = cards.card_from_json(exported)
    assert again.fields["user_name"] == "Ada"
    assert again.card_extra["extensions"] == V2_CARD["data"]["extensions"]


def test_v3_png_prefers_the_ccv3_chunk_and_keeps_v3_fields():
    v3 = {
        "spec": "chara_card_v3",
        "spec_version": "3.0",
        "data": {
            **V2_CARD["data"],
            "name": "Seraphina V3",
            "nickname": "Sera",
            "group_only_greetings": ["Hello, all."],
            "assets": [
                {"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}
            ],
        },
    }
    image = Image.new("RGB", (8, 8))
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("chara", base64.b64encode(json.dumps(V2_CARD).encode()).decode())
    info.add_text("ccv3", base64.b64encode(json.dumps(v3).encode()).decode())
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    card = cards.read_card(out.getvalue())
    assert card.fields["name"] == "Seraphina V3"
    assert card.card_extra["nickname"] == "Sera"
    assert card.card_extra["group_only_greetings"] == ["Hello, all."]


def test_v1_card_is_read_from_the_top_level():
    v1 = {
        "name": "Old Card",
        "description": "d",
        "personality": "p",
        "scenario": "s",
        "first_mes": "hi",
        "mes_example": "",
    }
    card = cards.read_card(json.dumps(v1).encode())
    assert card.fields["name"] == "Old Card" and card.fields["greeting"] == "hi"
    assert card.card_extra == {}


def _with(**data_changes):
    return {**V2_CARD, "data": {**V2_CARD["data"], **data_changes}}


def _bomb_png() -> bytes:
    """A valid PNG card whose header claims 60000x60000 pixels (a decompression bomb
    if anyone decoded it)."""
    good = png_card(V2_CARD)
    at = 8
    length, _ = struct.unpack(">I4s", good[at : at + 8])
    ihdr = bytearray(good[at + 8 : at + 8 + length])
    ihdr[0:8] = struct.pack(">II", 60000, 60000)
    chunk = b"IHDR" + bytes(ihdr)
    crc = struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    return (
        good[:at] + struct.pack(">I", length) + chunk + crc + good[at + 12 + length :]
    )


HOSTILE = [
    ("bad_base64", png_card(None, text="!!!not base64!!!"), "base64"),
    ("no_card_in_png", png_card(None), "chara"),
    ("bad_json", png_card(None, text=base64.b64encode(b"{nope").decode()), "JSON"),
    ("wrong_spec", json.dumps({**V2_CARD, "spec": "evil_card"}).encode(), "evil_card"),
    ("wrong_spec", json.dumps({**V2_CARD, "spec_version": "9.0"}).encode(), "9.0"),
    ("missing_name", json.dumps(_with(name="   ")).encode(), "name"),
    ("wrong_type", json.dumps(_with(description=["x"])).encode(), "description"),
    (
        "active_markup",
        json.dumps(_with(first_mes='<img src=x onerror="alert(1)">')).encode(),
        "first_mes",
    ),
    (
        "active_markup",
        json.dumps(_with(description="<script>alert(1)</script>")).encode(),
        "description",
    ),
    (
        "too_many",
        json.dumps(_with(alternate_greetings=["hi"] * 5000)).encode(),
        "alternate_greetings",
    ),
    ("too_long", json.dumps(_with(scenario="x" * 20_000)).encode(), "scenario"),
    ("null_character", json.dumps(_with(personality="a\u0000b")).encode(), "NUL"),
    ("json_too_large", b'{"spec": "' + b"x" * (3 * 1024 * 1024) + b'"}', "MB"),
    ("not_a_card", b"GIF89a not a card", "Character Card"),
    ("bad_png", png_card(V2_CARD)[:60], "damaged"),
]


@pytest.mark.parametrize(
    ("code", "data", "said"),
    HOSTILE,
    ids=[f"{i}-{h[0]}" for i, h in enumerate(HOSTILE)],
)
def test_hostile_card_is_refused_with_its_reason(code, data, said):
    with pytest.raises(cards.CardRejectedError) as refused:
        cards.read_card(data)
    assert refused.value.code == code
    assert said in refused.value.user_message("en")
    assert refused.value.user_message("zh-hans") != refused.value.user_message("en")


@pytest.mark.parametrize(
    ("data", "said_en", "said_zh"),
    [
        (png_card(None, text="%%%"), "not valid base64", "base64 编码无效"),
        (
            json.dumps(_with(alternate_greetings=["hi"] * 5000)).encode(),
            "too many entries (5000)",
            "条目太多（5000 条）",
        ),
        (_bomb_png(), "too many pixels", "分辨率太高"),
        (
            json.dumps(_with(description="<iframe src=//evil>")).encode(),
            "script or active HTML",
            "脚本或可执行的 HTML",
        ),
    ],
    ids=["bad-base64", "thousands-of-greetings", "bomb-image", "html"],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_import_page_refuses_hostile_cards_and_stores_nothing(
    alice_client, media_root, data, said_en, said_zh, language
):
    upload = SimpleUploadedFile("card.png", data)
    response = alice_client.post(
        "/characters/import/",
        {"card": upload},
        headers={"accept-language": language},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert (said_zh if language == "zh-hans" else said_en) in page
    assert Character.objects.count() == 0
    assert not (media_root / "characters").exists() or not any(
        (media_root / "characters").rglob("*.*")
    )


def test_import_page_refuses_an_oversized_file_before_reading_it(
    alice_client, media_root, settings
):
    upload = SimpleUploadedFile("card.json", b"{" + b" " * (cards.MAX_CARD_BYTES + 10))
    response = alice_client.post(
        "/characters/import/", {"card": upload}, headers={"accept-language": "en"}
    )
    assert response.status_code == 400
    assert "The card file is too large" in response.content.decode()
    assert Character.objects.count() == 0


def test_import_page_creates_a_private_character_and_shows_fields_as_text(
    alice_client, user, media_root
):
    card = _with(description='Loves <b>bold</b> & "quotes"')
    response = alice_client.post(
        "/characters/import/", {"card": SimpleUploadedFile("c.png", png_card(card))}
    )
    character = Character.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/characters/{character.pk}/"
    assert character.owner == user and character.visibility == "private"
    page = alice_client.get(response["Location"]).content.decode()
    assert "Loves &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quotes&quot;" in page
    assert "<b>bold</b>" not in page


def test_json_export_is_a_v2_download(alice_client, user, make_character):
    character = make_character(user, card_extra={"creator_notes": "n"})
    response = alice_client.get(f"/characters/{character.pk}/card.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert 'filename="Lin Wei.json"' in response["Content-Disposition"]
    body = json.loads(response.content)
    assert body["spec"] == "chara_card_v2" and body["data"]["name"] == "Lin Wei"
    assert body["data"]["creator_notes"] == "n"
    png = alice_client.get(f"/characters/{character.pk}/card.png")
    assert png["Content-Type"] == "image/png"
    assert json.loads(base64.b64decode(_chunks(png.content)["chara"])) == body
