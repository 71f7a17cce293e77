"""Who may see, chat with and edit a character: the one rule, used by every view,
the reply path and the conversation JSON.

- A private character: only its owner, for everything.
- A shared one: every signed-in user may see it, chat with it and duplicate it
  (the copy is theirs, and private), unless an administrator hid it; only its owner
  edits or deletes it.
- Anything else is a 404, exactly like a character that does not exist.

A conversation keeps its character only while its owner may see it: once a shared
character is made private or hidden, other users' conversations with it stay theirs
(messages and all) but lose the character (chat.characters.prompting).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from chat.characters.models import Character, Persona

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from chat.models import Conversation


def _shared() -> Q:
    return Q(visibility=Character.Visibility.SHARED, hidden_by_admin=False)


def visible_characters(user: User) -> QuerySet[Character]:
    """Return the characters `user` may see: their own and the shared ones."""
    return Character.objects.filter(Q(owner=user) | _shared())


def may_see(user_id: int, character: Character) -> bool:
    """Return whether user `user_id` may see and chat with `character` (no query)."""
    if character.owner_id == user_id:
        return True
    return (
        character.visibility == Character.Visibility.SHARED
        and not character.hidden_by_admin
    )


def get_visible_character(user: User, character_id: UUID | str) -> Character:
    """Return a character `user` may see; Http404 otherwise."""
    try:
        return visible_characters(user).get(pk=character_id)
    except (Character.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such character") from None


def get_own_character(user: User, character_id: UUID | str) -> Character:
    """Return `user`'s own character (to edit or delete); Http404 otherwise, also
    for a shared character of someone else."""
    try:
        return Character.objects.get(pk=character_id, owner=user)
    except (Character.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such character") from None


def get_own_persona(user: User, persona_id: int) -> Persona:
    """Return `user`'s own persona; Http404 otherwise."""
    try:
        return Persona.objects.get(pk=persona_id, owner=user)
    except Persona.DoesNotExist:
        raise Http404("No such persona") from None


def conversation_character(conversation: Conversation) -> Character | None:
    """Return the conversation's character if its owner may still see it, else None.

    No query: the conversation manager loads the character with the conversation.
    """
    character = conversation.character if conversation.character_id else None
    if character is None or not may_see(conversation.owner_id, character):
        return None
    return character


def conversation_persona(conversation: Conversation) -> Persona | None:
    """Return the conversation's persona if it is its owner's (no query)."""
    persona = conversation.persona if conversation.persona_id else None
    if persona is None or persona.owner_id != conversation.owner_id:
        return None
    return persona
