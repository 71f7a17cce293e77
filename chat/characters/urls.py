"""Character pages, namespaced `characters:` and mounted at /characters/."""

from __future__ import annotations

from django.urls import path

from chat.characters import views

app_name = "characters"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("new/", views.create, name="create"),
    path("import/", views.import_card, name="import"),
    path("personas/", views.personas, name="personas"),
    path("personas/<int:persona_id>/", views.persona_edit, name="persona_edit"),
    path(
        "personas/<int:persona_id>/delete/",
        views.persona_delete,
        name="persona_delete",
    ),
    path("<uuid:character_id>/", views.detail, name="detail"),
    path("<uuid:character_id>/edit/", views.edit, name="edit"),
    path("<uuid:character_id>/duplicate/", views.duplicate, name="duplicate"),
    path("<uuid:character_id>/delete/", views.delete, name="delete"),
    path("<uuid:character_id>/chat/", views.start_chat, name="start_chat"),
    path(
        "<uuid:character_id>/card.json",
        views.export_card,
        {"kind": "json"},
        name="export_json",
    ),
    path(
        "<uuid:character_id>/card.png",
        views.export_card,
        {"kind": "png"},
        name="export_png",
    ),
    path("<uuid:character_id>/avatar/", views.avatar, name="avatar"),
]
