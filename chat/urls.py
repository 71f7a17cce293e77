"""Chat URLs, namespaced `chat:`: the page and its JSON API (docs/chat.md)."""

from __future__ import annotations

from django.urls import path

from chat import assistant_views, uploads, views
from chat.characters import views as character_views

app_name = "chat"

urlpatterns = [
    path("", views.index, name="index"),
    path("c/<uuid:conversation_id>/", views.conversation_page, name="conversation"),
    path("agents/", assistant_views.index, name="assistants"),
    path(
        "agents/<str:assistant_id>/start/",
        assistant_views.start,
        name="assistant_start",
    ),
    path("api/conversations/", views.api_conversations, name="api_conversations"),
    path(
        "api/conversations/<uuid:conversation_id>/",
        views.api_conversation,
        name="api_conversation",
    ),
    path(
        "api/conversations/<uuid:conversation_id>/messages/",
        views.api_conversation_messages,
        name="api_conversation_messages",
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
    path("api/attachments/", uploads.api_attachments, name="api_attachments"),
    path(
        "api/attachments/<int:attachment_id>/",
        uploads.api_attachment,
        name="api_attachment",
    ),
    path(
        "api/attachments/<int:attachment_id>/copy/",
        uploads.api_attachment_copy,
        name="api_attachment_copy",
    ),
    path(
        "api/attachments/<int:attachment_id>/file",
        uploads.attachment_file,
        name="attachment_file",
    ),
    path(
        "api/attachments/<int:attachment_id>/thumbnail",
        uploads.attachment_thumbnail,
        name="attachment_thumbnail",
    ),
    # Signed, expiring, for the platform only (chat.vision.public_url).
    path(
        "attachments/public/<str:token>/",
        uploads.attachment_public,
        name="attachment_public",
    ),
]
