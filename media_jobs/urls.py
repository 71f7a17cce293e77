"""Video job URLs, namespaced `media_jobs:`."""

from __future__ import annotations

from django.urls import path

from glmweb import views as project_views

app_name = "media_jobs"

urlpatterns = [
    # Replaced by the video page when the media_jobs views land.
    path("", project_views.home, name="index"),
]
