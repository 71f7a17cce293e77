"""Django admin for conversations, messages, summaries and presets."""

from __future__ import annotations

from django.contrib import admin

from chat.models import Conversation, Message, PromptPreset, Summary


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("role", "status", "content", "model", "completion_tokens", "superseded")
    readonly_fields = fields
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "model", "pinned", "archived", "updated_at")
    list_filter = ("archived", "pinned", "model")
    search_fields = ("title", "owner__username")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "conversation", "role", "status", "model", "created_at")
    list_filter = ("role", "status")
    search_fields = ("content", "request_id")
    list_select_related = ("conversation",)
    raw_id_fields = ("conversation",)


@admin.register(Summary)
class SummaryAdmin(admin.ModelAdmin):
    list_display = ("conversation", "covered_messages", "model", "created_at")
    raw_id_fields = ("conversation", "covers_until")


@admin.register(PromptPreset)
class PromptPresetAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "updated_at")
    search_fields = ("name", "owner__username")
    raw_id_fields = ("owner",)


# Characters and personas register themselves (chat.characters.admin).
from chat.characters import admin as _characters_admin  # noqa: E402, F401
