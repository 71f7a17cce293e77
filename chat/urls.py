"""Chat URLs, namespaced `chat:`: the page and its JSON API (docs/chat.md)."""

from __future__ import annotations

from django.urls import path

from chat import views
from chat.characters import views as character_views

app_name = "chat"

urlpatterns = [
    path("", views.index, name="index"),
    path("c/<uuid:conversation_id>/", views.conversation_page, name="conversation"),
    path("api/conversations/", views.api_conversations, name="api_conversations"),
    path(
        "api/conversations/<uuid:conversation_id>/",
        views.api_conversation,
        name="api_conversation",
    ),
    path(
        "api/conversations/<uuid:conversation_id>/restore/",
        views.api_conversation_restore,
        name="api_conversation_restore",
    ),
    path(
        "api/conversations/<uuid:conversation_id>/export.md",
        views.api_export_markdown,
        name="api_export_markdown",
    ),
    path(
        "api/conversations/<uuid:conversation_id>/export.json",
        views.api_export_json,
        name="api_export_json",
    ),
    path(
        "api/conversations/<uuid:conversation_id>/greeting/",
        character_views.api_greeting,
        name="api_conversation_greeting",
    ),
    path("api/presets/", views.api_presets, name="api_presets"),
    path("api/presets/<int:preset_id>/", views.api_preset, name="api_preset"),
    path("api/models/", views.api_models, name="api_models"),
]
