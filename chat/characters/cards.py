"""Character Card import (V1, V2 and V3; JSON or PNG) and V2 export (JSON or PNG).

The formats (https://github.com/malfoyslastname/character-card-spec-v2 and its V3
successor):

- V2 JSON: `{"spec": "chara_card_v2", "spec_version": "2.0", "data": {name,
  description, personality, scenario, first_mes, mes_example, creator_notes,
  system_prompt, post_history_instructions, alternate_greetings, character_book,
  tags, creator, character_version, extensions}}`. V3 (`chara_card_v3`, "3.0") is a
  superset: the same `data` plus assets, nickname, group_only_greetings, ... V1 is
  the six first fields at the top level, with no `spec`.
- PNG: the card's JSON, UTF-8, base64-encoded, in a tEXt chunk whose keyword is
  `chara` (V2) or `ccv3` (V3, preferred when both are there). The picture is the
  character's avatar.

Import maps name, description, personality, scenario, first_mes (greeting),
alternate_greetings, mes_example (example dialogue) and tags onto Character; every
other `data` key is kept verbatim in `card_extra`, so an export gives it back.
`extensions.glmweb` carries our own user_name/user_info through a round trip.

A card is refused as a whole, with a reason in the user's language
(CardRejectedError.user_message), when: the file is too large; the PNG has no card
chunk or its base64 / UTF-8 / JSON is broken; `spec` is not one of the three; a
mapped field has the wrong type or is too long; there are too many greetings or
tags; a text holds NUL or active markup (`<script>`, `<iframe>`, `javascript:`,
`on...=` handlers: never rendered, as every field is shown as text, but a card
carrying them is hostile). The picture goes through glmweb/images.py later
(services.import_card), so bombs and oversized images are refused there. Nothing
here touches the database.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image, PngImagePlugin

from chat.characters import models as limits
from glmweb import images
from glmweb.rejections import RejectedUpload

if TYPE_CHECKING:
    from chat.characters.models import Character

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A card file (JSON, or PNG with its picture) may be at most this large.
MAX_CARD_BYTES = 8 * 1024 * 1024
# The card's JSON itself, wherever it comes from (lorebooks make big cards).
MAX_JSON_BYTES = 2 * 1024 * 1024
# The PNG chunks read before giving up (a card has a handful).
MAX_PNG_CHUNKS = 4096
SPECS = {"chara_card_v2": "2", "chara_card_v3": "3"}
# `data` keys mapped onto Character fields: {card key: our field}.
MAPPED = {
    "name": "name",
    "description": "description",
    "personality": "personality",
    "scenario": "scenario",
    "first_mes": "greeting",
    "mes_example": "example_dialogue",
    "alternate_greetings": "alternate_greetings",
    "tags": "tags",
}
OWN_EXTENSION = "glmweb"
_ACTIVE_MARKUP = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|link|meta|style|svg|math|form|base)\b"
    r"|javascript\s*:|\bon[a-z]+\s*=\s*[\"'`]",
    re.IGNORECASE,
)

# code -> (zh-hans, en); {placeholders} come from the error's params.
_MESSAGES: dict[str, tuple[str, str]] = {
    "too_large": (
        "角色卡文件太大（{size}），上限为 {limit}。",
        "The card file is too large ({size}); the limit is {limit}.",
    ),
    "json_too_large": (
        "角色卡的数据太大（{size}），上限为 {limit}。",
        "The card's data is too large ({size}); the limit is {limit}.",
    ),
    "not_a_card": (
        "无法识别该文件：请上传 Character Card 的 JSON 文件或带角色数据的 PNG 图片。",
        "This file is not a character card: upload a Character Card JSON file or a "
        "PNG card.",
    ),
    "no_card_in_png": (
        "这张 PNG 图片里没有角色卡数据（没有 chara 或 ccv3 文本块）。",
        "This PNG holds no character card (no `chara` or `ccv3` text chunk).",
    ),
    "bad_png": (
        "PNG 文件已损坏，无法读取角色卡数据。",
        "The PNG file is damaged; its card data cannot be read.",
    ),
    "bad_base64": (
        "角色卡数据的 base64 编码无效。",
        "The card data in the PNG is not valid base64.",
    ),
    "bad_json": (
        "角色卡数据不是有效的 JSON（UTF-8）对象。",
        "The card data is not a valid JSON object (UTF-8).",
    ),
    "wrong_spec": (
        "不支持的角色卡格式“{spec}”：支持 chara_card_v2、chara_card_v3 和 V1 角色卡。",
        "Unsupported card format “{spec}”: chara_card_v2, chara_card_v3 and V1 "
        "cards are supported.",
    ),
    "missing_name": (
        "角色卡没有名字（name）。",
        "The card has no name.",
    ),
    "wrong_type": (
        "角色卡字段 {field} 的类型不对（应为{expected}）。",
        "The card's field {field} has the wrong type (expected {expected}).",
    ),
    "too_long": (
        "角色卡字段 {field} 太长（{length} 个字符），上限为 {limit}。",
        "The card's field {field} is too long ({length} characters); the limit "
        "is {limit}.",
    ),
    "too_many": (
        "角色卡字段 {field} 的条目太多（{count} 条），上限为 {limit}。",
        "The card's field {field} has too many entries ({count}); the limit is "
        "{limit}.",
    ),
    "null_character": (
        "角色卡字段 {field} 含有空字符（NUL），无法保存。",
        "The card's field {field} contains a NUL character and cannot be saved.",
    ),
    "active_markup": (
        "角色卡字段 {field} 含有脚本或可执行的 HTML，出于安全考虑拒绝导入。",
        "The card's field {field} contains script or active HTML; it is refused "
        "for safety.",
    ),
}
_EXPECTED = {"text": ("文本", "text"), "list": ("文本列表", "a list of texts")}


class CardRejectedError(RejectedUpload):
    """A card was refused; `code` is stable, user_message() says why."""

    wording = _MESSAGES

    def wording_params(self, chinese: bool) -> dict[str, Any]:
        params = dict(self.params)
        if "expected" in params:
            params["expected"] = _EXPECTED[params["expected"]][0 if chinese else 1]
        return params


@dataclass
class ImportedCard:
    """A card read and checked: Character field values, the kept extras, and the
    picture of a PNG card (still to be normalised), if any."""

    fields: dict[str, Any]
    card_extra: dict[str, Any] = field(default_factory=dict)
    image: bytes | None = None
    spec: str = "chara_card_v2"


def read_card(data: bytes) -> ImportedCard:
    """Return the card in `data` (JSON, or a PNG card); raise CardRejectedError."""
    if len(data) > MAX_CARD_BYTES:
        raise CardRejectedError(
            "too_large",
            size=images.human_size(len(data)),
            limit=images.human_size(MAX_CARD_BYTES),
        )
    if data.startswith(PNG_SIGNATURE):
        card = card_from_json(_png_card_json(data))
        card.image = data
        return card
    if data.lstrip()[:1] != b"{":
        raise CardRejectedError("not_a_card")
    return card_from_json(data)


def _png_text_chunks(data: bytes) -> dict[str, bytes]:
    """Return the tEXt chunks `chara` and `ccv3` of a PNG, without decoding pixels."""
    found: dict[str, bytes] = {}
    at = len(PNG_SIGNATURE)
    for _ in range(MAX_PNG_CHUNKS):
        if at + 8 > len(data):
            raise CardRejectedError("bad_png")
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        if len(body) != length:
            raise CardRejectedError("bad_png")
        if kind == b"tEXt":
            keyword, _sep, text = body.partition(b"\0")
            name = keyword.decode("latin-1").lower()
            if name in {"chara", "ccv3"}:
                found[name] = text
        if kind == b"IEND":
            return found
        at += 12 + length
    raise CardRejectedError("bad_png")


def _png_card_json(data: bytes) -> bytes:
    chunks = _png_text_chunks(data)
    text = chunks.get("ccv3") or chunks.get("chara")
    if text is None:
        raise CardRejectedError("no_card_in_png")
    if len(text) > MAX_JSON_BYTES * 4 // 3 + 4:
        raise CardRejectedError(
            "json_too_large",
            size=images.human_size(len(text) * 3 // 4),
            limit=images.human_size(MAX_JSON_BYTES),
        )
    try:
        return base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CardRejectedError("bad_base64") from None


def _load_json(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_JSON_BYTES:
        raise CardRejectedError(
            "json_too_large",
            size=images.human_size(len(raw)),
            limit=images.human_size(MAX_JSON_BYTES),
        )
    try:
        value = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CardRejectedError("bad_json") from None
    if not isinstance(value, dict):
        raise CardRejectedError("bad_json")
    return value


def _text(card_key: str, value: Any, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CardRejectedError("wrong_type", field=card_key, expected="text")
    _check_text(card_key, value)
    if len(value) > limit:
        raise CardRejectedError(
            "too_long", field=card_key, length=len(value), limit=limit
        )
    return value


def _check_text(card_key: str, value: str) -> None:
    if "\x00" in value:
        raise CardRejectedError("null_character", field=card_key)
    if _ACTIVE_MARKUP.search(value):
        raise CardRejectedError("active_markup", field=card_key)


def _texts(card_key: str, value: Any, count: int, limit: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CardRejectedError("wrong_type", field=card_key, expected="list")
    if len(value) > count:
        raise CardRejectedError(
            "too_many", field=card_key, count=len(value), limit=count
        )
    return [_text(card_key, item, limit) for item in value]


def card_from_json(raw: bytes | dict[str, Any]) -> ImportedCard:
    """Return the card in a decoded or raw JSON object; raise CardRejectedError."""
    card = _load_json(raw) if isinstance(raw, bytes) else raw
    spec = card.get("spec")
    data: Any
    if spec is None and "data" not in card and isinstance(card.get("name"), str):
        data, spec = card, "chara_card_v1"  # V1: the fields at the top level
    elif isinstance(spec, str) and spec in SPECS:
        data = card.get("data")
        version = card.get("spec_version")
        if not isinstance(data, dict) or (
            version is not None and not str(version).startswith(SPECS[spec])
        ):
            raise CardRejectedError("wrong_spec", spec=f"{spec} {version}"[:60])
    else:
        raise CardRejectedError("wrong_spec", spec=str(spec)[:60])
    name = _text("name", data.get("name"), limits.NAME_MAX_CHARS).strip()
    if not name:
        raise CardRejectedError("missing_name")
    fields: dict[str, Any] = {"name": name}
    for key in ("description", "personality", "scenario", "first_mes", "mes_example"):
        fields[MAPPED[key]] = _text(key, data.get(key), limits.TEXT_MAX_CHARS)
    fields["alternate_greetings"] = _texts(
        "alternate_greetings",
        data.get("alternate_greetings"),
        limits.MAX_ALTERNATE_GREETINGS,
        limits.TEXT_MAX_CHARS,
    )
    fields["tags"] = _texts(
        "tags", data.get("tags"), limits.MAX_TAGS, limits.TAG_MAX_CHARS
    )
    extra = {key: value for key, value in data.items() if key not in MAPPED}
    if spec == "chara_card_v1":
        extra = {}  # V1 has no other fields; the rest of the object is not a card's
    # Shown to the user beside the character: held to the same rule as the fields.
    if "creator_notes" in extra:
        _text("creator_notes", extra["creator_notes"], limits.TEXT_MAX_CHARS)
    extensions = extra.get("extensions")
    if isinstance(extensions, dict) and isinstance(extensions.get(OWN_EXTENSION), dict):
        own = extensions[OWN_EXTENSION]
        fields["user_name"] = _text("user_name", own.get("user_name"), 40)
        fields["user_info"] = _text(
            "user_info", own.get("user_info"), limits.USER_INFO_MAX_CHARS
        )
        rest = {k: v for k, v in extensions.items() if k != OWN_EXTENSION}
        extra["extensions"] = rest
    return ImportedCard(fields=fields, card_extra=extra, spec=str(spec))


def card_v2(character: Character) -> dict[str, Any]:
    """Return the character as a Character Card V2 object (every kept field back)."""
    extra = dict(character.card_extra or {})
    extensions = dict(extra.pop("extensions", None) or {})
    if character.user_name or character.user_info:
        extensions[OWN_EXTENSION] = {
            "user_name": character.user_name,
            "user_info": character.user_info,
        }
    data: dict[str, Any] = {
        "name": character.name,
        "description": character.description,
        "personality": character.personality,
        "scenario": character.scenario,
        "first_mes": character.greeting,
        "mes_example": character.example_dialogue,
        "creator_notes": extra.pop("creator_notes", ""),
        "system_prompt": extra.pop("system_prompt", ""),
        "post_history_instructions": extra.pop("post_history_instructions", ""),
        "alternate_greetings": list(character.alternate_greetings or []),
        "tags": list(character.tags or []),
        "creator": extra.pop("creator", ""),
        "character_version": extra.pop("character_version", ""),
        "extensions": extensions,
    }
    data.update(extra)  # character_book, V3 additions, anything else kept
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}


def card_json_bytes(character: Character) -> bytes:
    """Return the V2 card as UTF-8 JSON."""
    return json.dumps(card_v2(character), ensure_ascii=False, indent=2).encode()


def card_png_bytes(character: Character, picture: bytes | None) -> bytes:
    """Return a PNG card: `picture` (the stored avatar; a plain tile without one)
    with the V2 card, base64-encoded UTF-8 JSON, in its `chara` tEXt chunk."""
    image: Image.Image
    if picture:
        image = Image.open(io.BytesIO(picture))
        image.load()
        if image.mode not in {"RGB", "RGBA"}:
            image = image.convert("RGBA")
    else:
        image = Image.new("RGB", (400, 600), (120, 130, 150))
    payload = json.dumps(card_v2(character), ensure_ascii=False).encode()
    info = PngImagePlugin.PngInfo()
    info.add_text("chara", base64.b64encode(payload).decode("ascii"))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()
