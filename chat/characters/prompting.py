"""What a reply sends for a conversation with a character (docs/characters.md).

On a model that takes `meta` (CharGLM, Emohaa: catalog capability `roleplay`), the
character and the user's persona go in `meta`, in the platform's exact form
`{user_info, bot_info, bot_name, user_name}`. On any other model the same character
is compiled into the system prompt, ahead of the conversation's own system prompt,
so a story can move between models midway and keep its cast.

The user's side comes from the conversation's persona, else the character's own
user_name/user_info, else a neutral default. Card placeholders `{{char}}` and
`{{user}}` (and the older `<BOT>`/`<USER>`) are replaced by the two names.

Pure functions over a loaded conversation: no queries (the conversation manager
joins the character and persona), safe in the reply path's event loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat import catalog
from chat.characters import access
from glmweb import zhipu

if TYPE_CHECKING:
    from chat.characters.models import Character
    from chat.models import Conversation

DEFAULT_USER_NAME = "User"
# A role-play model with no character to play (an old conversation, or one whose
# shared character was made private or hidden): the platform refuses a request
# without `meta`, so it gets one that says there is none.
NO_CHARACTER_META: zhipu.CharacterMeta = {
    "bot_name": "Assistant",
    "bot_info": "No character was set for this conversation: answer as a friendly, "
    "helpful assistant.",
    "user_name": DEFAULT_USER_NAME,
    "user_info": "A user of GLM Web.",
}
_PLACEHOLDER = re.compile(r"\{\{\s*(char|user)\s*\}\}|<(BOT|USER)>", re.IGNORECASE)


@dataclass(frozen=True)
class Roles:
    """The two names of a role-play: who the model plays, and who the user plays."""

    character: str
    user: str
    user_info: str


def _fill(text: str, roles: Roles) -> str:
    def name(match: re.Match[str]) -> str:
        which = (match.group(1) or match.group(2)).lower()
        return roles.character if which in {"char", "bot"} else roles.user

    return _PLACEHOLDER.sub(name, text).strip()


def roles(conversation: Conversation) -> Roles | None:
    """Return the conversation's role-play names, or None without a character."""
    character = access.conversation_character(conversation)
    if character is None:
        return None
    persona = access.conversation_persona(conversation)
    user = (persona.name if persona else "") or character.user_name or DEFAULT_USER_NAME
    info = (persona.description if persona else "") or character.user_info
    bare = Roles(character.name, user, "")
    info = _fill(info, bare) or f"{user} is talking with {character.name}."
    return Roles(character.name, user, info)


def fill_names(text: str, conversation: Conversation) -> str:
    """Return `text` (a greeting) with its `{{char}}`/`{{user}}` placeholders filled
    for this conversation (unchanged without a character)."""
    names = roles(conversation)
    return _fill(text, names) if names is not None else text


def _sections(character: Character, names: Roles) -> list[tuple[str, str]]:
    parts = [
        ("", character.description),
        ("Personality", character.personality),
        ("Scenario", character.scenario),
        ("Example dialogue", character.example_dialogue),
    ]
    return [(label, _fill(text, names)) for label, text in parts if text.strip()]


def meta(conversation: Conversation) -> zhipu.CharacterMeta | None:
    """Return the `meta` a reply on the conversation's model sends, or None when
    the model takes none."""
    if not catalog.describe(conversation.model).needs_meta:
        return None
    character = access.conversation_character(conversation)
    names = roles(conversation)
    if character is None or names is None:
        return dict(NO_CHARACTER_META)  # type: ignore[return-value]
    info = "\n".join(
        f"{label}: {text}" if label else text
        for label, text in _sections(character, names)
    )
    return {
        "user_info": names.user_info,
        "bot_info": info or character.name,
        "bot_name": character.name,
        "user_name": names.user,
    }


def compiled_prompt(conversation: Conversation) -> str:
    """Return the character compiled into a system prompt ("" without one)."""
    character = access.conversation_character(conversation)
    names = roles(conversation)
    if character is None or names is None:
        return ""
    lines = [
        f"You are {names.character}, in a role-play with {names.user}. Stay in "
        f"character: speak and act only as {names.character}, never for "
        f"{names.user}, and do not say you are an AI."
    ]
    for label, text in _sections(character, names):
        lines.append(f"[{label or names.character}]\n{text}")
    lines.append(f"[{names.user}]\n{names.user_info}")
    return "\n\n".join(lines)


def system_prompt(conversation: Conversation) -> str:
    """Return the system prompt a reply sends (before any summary): on a model
    without `meta`, the compiled character then the conversation's own prompt; on a
    `meta` model (or without a character) the conversation's own prompt alone."""
    own = conversation.system_prompt.strip()
    if catalog.describe(conversation.model).needs_meta:
        return own
    compiled = compiled_prompt(conversation)
    return "\n\n".join(part for part in (compiled, own) if part)
