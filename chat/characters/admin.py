"""Admin for characters and personas: an administrator can hide a shared character
(it then disappears for everyone but its owner)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from chat.characters.models import Character, Persona


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "visibility", "hidden_by_admin", "updated_at")
    list_filter = ("visibility", "hidden_by_admin")
    search_fields = ("name", "owner__username")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    # Avatars come in only through the character form or a card import, both through
    # glmweb/images.py; a file set here would skip the normaliser.
    readonly_fields = ("avatar",)
    actions = ["hide", "unhide"]

    @admin.action(description=_("Hide the selected characters from other users"))
    def hide(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        queryset.update(hidden_by_admin=True)

    @admin.action(description=_("Show the selected characters again"))
    def unhide(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        queryset.update(hidden_by_admin=False)


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_default", "updated_at")
    search_fields = ("name", "owner__username")
    raw_id_fields = ("owner",)
