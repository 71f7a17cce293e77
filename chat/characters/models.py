"""Role-play characters and personas. Imported into chat.models: they are the chat
app's models (Conversation points at both)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Limits of what a character holds, shared by the form and the card importer (one
# rule for both doors). Long enough for real cards, short of abuse.
NAME_MAX_CHARS = 80
TEXT_MAX_CHARS = 16_000  # description, personality, scenario, example, each greeting
USER_INFO_MAX_CHARS = 4_000
MAX_ALTERNATE_GREETINGS = 50
MAX_TAGS = 30
TAG_MAX_CHARS = 40


def avatar_path(character: Character, filename: str) -> str:
    # A fresh random name per upload: the old file is never overwritten in place, and
    # names say nothing about whose character it is.
    extension = filename.rpartition(".")[2].lower() or "png"
    return f"characters/{character.pk}/{uuid.uuid4().hex}.{extension}"


class Character(models.Model):
    """A role-play character: who the model plays, and how the story opens."""

    class Visibility(models.TextChoices):
        PRIVATE = "private", _("Private (only me)")
        SHARED = "shared", _("Shared with every user here")

    # A UUID: ids can be neither guessed nor counted.
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="characters",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=NAME_MAX_CHARS)
    avatar = models.FileField(_("avatar"), upload_to=avatar_path, blank=True)
    # The card's description: who the character is (CharGLM's bot_info).
    description = models.TextField(_("description"), blank=True)
    personality = models.TextField(_("personality"), blank=True)
    scenario = models.TextField(_("scenario"), blank=True)
    # The user's role in the story when no persona is chosen (user_name/user_info).
    user_name = models.CharField(_("your name in the story"), max_length=40, blank=True)
    user_info = models.TextField(_("your role in the story"), blank=True)
    greeting = models.TextField(_("greeting"), blank=True)
    alternate_greetings = models.JSONField(
        _("alternate greetings"), default=list, blank=True
    )
    example_dialogue = models.TextField(_("example dialogue"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    default_model = models.CharField(_("model"), max_length=64)
    visibility = models.CharField(
        _("visibility"),
        max_length=16,
        choices=Visibility.choices,
        default=Visibility.PRIVATE,
    )
    # Set by an administrator: a shared character nobody else may see or chat with.
    hidden_by_admin = models.BooleanField(
        _("hidden by an administrator"), default=False
    )
    # Card fields we do not use (creator_notes, system_prompt, character_book,
    # extensions, V3 additions...), kept so an export gives them back.
    card_extra = models.JSONField(_("other card fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("character")
        verbose_name_plural = _("characters")
        ordering = ["name", "created_at"]
        indexes = [
            models.Index(
                fields=["visibility", "hidden_by_admin"], name="character_shared"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def greetings(self) -> list[str]:
        """Return every greeting, the main one first (empty ones left out)."""
        return [g for g in [self.greeting, *self.alternate_greetings] if g]


class Persona(models.Model):
    """Who the user plays: a name and a description, one of them the default."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="personas",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=40)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("persona")
        verbose_name_plural = _("personas")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"],
                condition=models.Q(is_default=True),
                name="persona_one_default_per_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name
