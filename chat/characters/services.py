"""Characters and personas: create, change, duplicate, delete, import a card, start
a chat, choose the opening greeting.

The views check access (chat.characters.access) and validate input (forms, cards)
before calling these; every write that stores files stores nothing on failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from chat import catalog
from chat.characters import access, cards, prompting
from chat.characters.models import Character, Persona
from chat.models import Conversation, Message
from glmweb import images

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# Avatars are shown small; a card's picture is kept up to this side.
AVATAR_MAX_SIDE = 1024


def default_character_model() -> str:
    """Return the model a new character gets: the first role-play model in the
    catalog, else the default chat model (a catalog without CharGLM still works,
    with the character compiled into the system prompt)."""
    roleplay = catalog.roleplay_models()
    return roleplay[0].code if roleplay else catalog.default_model()


def character_model_choices() -> list[catalog.ChatModel]:
    """Return the models a character may default to: the role-play ones, else (a
    catalog without them) those of plain chat."""
    return catalog.roleplay_models() or catalog.chat_models()


def normalise_avatar(source: Any) -> images.NormalisedImage:
    """Return an avatar upload (bytes or a file) checked and re-encoded by
    glmweb/images.py; raises images.ImageRejectedError."""
    return images.normalise_image(source, max_side=AVATAR_MAX_SIDE)


def _store_avatar(character: Character, avatar: images.NormalisedImage) -> None:
    old = character.avatar.name if character.avatar else ""
    character.avatar.save(
        f"avatar{avatar.extension}", ContentFile(avatar.data), save=False
    )
    if old:
        transaction.on_commit(lambda: character.avatar.storage.delete(old))


def _save_with_avatar(
    character: Character, avatar: images.NormalisedImage | None
) -> Character:
    """Save `character` (and its new avatar file) or, on failure, neither."""
    new_file = ""
    try:
        with transaction.atomic():
            if avatar is not None:
                _store_avatar(character, avatar)
                new_file = character.avatar.name
            character.save()
    except Exception:
        if new_file:
            character.avatar.storage.delete(new_file)
        raise
    return character


def create_character(
    owner: User, fields: dict[str, Any], avatar: images.NormalisedImage | None = None
) -> Character:
    """Create a character of `owner` from validated `fields`."""
    return _save_with_avatar(Character(owner=owner, **fields), avatar)


def update_character(
    character: Character,
    fields: dict[str, Any],
    avatar: images.NormalisedImage | None = None,
    *,
    remove_avatar: bool = False,
) -> Character:
    """Change a character's validated `fields` (and avatar)."""
    for name, value in fields.items():
        setattr(character, name, value)
    if remove_avatar and avatar is None and character.avatar:
        old = character.avatar.name
        character.avatar = None
        transaction.on_commit(lambda: Character.avatar.field.storage.delete(old))
    return _save_with_avatar(character, avatar)


def duplicate_character(character: Character, owner: User) -> Character:
    """Return a private copy of `character` owned by `owner` (avatar copied too)."""
    copy = Character(
        owner=owner,
        name=character.name,
        description=character.description,
        personality=character.personality,
        scenario=character.scenario,
        user_name=character.user_name,
        user_info=character.user_info,
        greeting=character.greeting,
        alternate_greetings=list(character.alternate_greetings or []),
        example_dialogue=character.example_dialogue,
        tags=list(character.tags or []),
        default_model=character.default_model,
        card_extra=dict(character.card_extra or {}),
    )
    avatar = None
    if character.avatar:
        try:
            with character.avatar.open("rb") as handle:
                avatar = normalise_avatar(handle.read())
        except (OSError, images.ImageRejectedError):
            logger.warning("avatar of character %s could not be copied", character.pk)
    return _save_with_avatar(copy, avatar)


def delete_character(character: Character) -> None:
    """Delete a character; its conversations stay (without it) and so do their
    messages. The avatar file goes once the delete is committed."""
    name = character.avatar.name if character.avatar else ""
    with transaction.atomic():
        character.delete()
        if name:
            transaction.on_commit(lambda: Character.avatar.field.storage.delete(name))


def import_card(owner: User, data: bytes) -> Character:
    """Create a private character of `owner` from a card file (JSON or PNG).

    Raises cards.CardRejectedError or images.ImageRejectedError (the PNG's picture);
    nothing is stored then.
    """
    card = cards.read_card(data)
    avatar = normalise_avatar(card.image) if card.image else None
    character = Character(
        owner=owner,
        default_model=default_character_model(),
        card_extra=card.card_extra,
        **card.fields,
    )
    return _save_with_avatar(character, avatar)


def read_avatar(character: Character) -> bytes | None:
    """Return the stored avatar's bytes, or None (none, or its file is gone)."""
    if not character.avatar:
        return None
    try:
        with character.avatar.open("rb") as handle:
            return handle.read()
    except OSError:
        return None


# --- personas


def save_persona(persona: Persona) -> Persona:
    """Save a persona; when it is the default, the owner's other one stops being."""
    with transaction.atomic():
        if persona.is_default:
            Persona.objects.filter(owner=persona.owner, is_default=True).exclude(
                pk=persona.pk
            ).update(is_default=False)
        persona.save()
    return persona


def default_persona(owner: User) -> Persona | None:
    """Return `owner`'s default persona, if any."""
    return Persona.objects.filter(owner=owner, is_default=True).first()


# --- chats


def _chat_model(character: Character) -> str:
    model = catalog.get_model(character.default_model)
    return model.code if model is not None else default_character_model()


@transaction.atomic
def start_chat(
    owner: User,
    character: Character,
    persona: Persona | None = None,
    *,
    greeting_index: int = 0,
) -> Conversation:
    """Create `owner`'s conversation with `character` (one they may see), opened by
    its greeting as the first assistant message when it has one."""
    greetings = character.greetings()
    index = greeting_index if 0 <= greeting_index < len(greetings) else 0
    conversation = Conversation.objects.create(
        owner=owner,
        title=character.name,
        title_is_auto=False,
        model=_chat_model(character),
        character=character,
        persona=persona,
        greeting_index=index,
    )
    if greetings:
        Message.objects.create(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            content=prompting.fill_names(greetings[index], conversation),
            status=Message.Status.COMPLETE,
            model=conversation.model,
            finished_at=timezone.now(),
        )
    return conversation


@dataclass(frozen=True)
class GreetingChoice:
    conversation: Conversation
    message: Message


class GreetingRefusedError(Exception):
    """The greeting cannot be changed any more (the story has begun) or the index
    is not one of the character's greetings."""


@transaction.atomic
def choose_greeting(conversation: Conversation, index: int) -> GreetingChoice:
    """Replace the opening greeting by the character's greeting `index`.

    Only before the user's first message: after it, the greeting is part of the
    story. Raises GreetingRefusedError.
    """
    character = access.conversation_character(conversation)
    greetings = character.greetings() if character else []
    if not 0 <= index < len(greetings):
        raise GreetingRefusedError("no such greeting")
    messages = list(
        Message.objects.select_for_update()
        .filter(conversation=conversation, superseded=False)
        .order_by("created_at", "id")[:2]
    )
    if len(messages) != 1 or messages[0].role != Message.Role.ASSISTANT:
        raise GreetingRefusedError("the story has begun")
    message = messages[0]
    message.content = prompting.fill_names(greetings[index], conversation)
    message.save(update_fields=["content", "updated_at"])
    Conversation.objects.filter(pk=conversation.pk).update(greeting_index=index)
    conversation.greeting_index = index
    return GreetingChoice(conversation, message)
