"""Chat URLs, namespaced `chat:`."""

from __future__ import annotations

from django.urls import path

from glmweb import views as project_views

app_name = "chat"

urlpatterns = [
    # Replaced by the chat page when the chat app's views land.
    path("", project_views.home, name="index"),
]
