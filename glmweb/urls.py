"""Project URLs: the admin, a health check, and each app's pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from glmweb import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("", views.home, name="home"),
]
