"""Video job URLs, namespaced `media_jobs:` and mounted at /videos/."""

from __future__ import annotations

from django.urls import path

from media_jobs import views

app_name = "media_jobs"

urlpatterns = [
    path("", views.index, name="index"),
    path("status/", views.status, name="status"),
    path("<int:job_id>/cancel/", views.cancel, name="cancel"),
    path("<int:job_id>/retry/", views.retry, name="retry"),
    path("<int:job_id>/delete/", views.delete, name="delete"),
    path("<int:job_id>/<str:kind>/", views.job_file, name="file"),
]
