"""Project URLs: the admin, accounts, a health check, and each app's pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from glmweb import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("glmweb.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", views.favicon),
    path("videos/", include("media_jobs.urls")),
    path("", include("chat.urls")),
]
