"""Project URLs: admin, accounts, languages, health check and each app's pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from glmweb import csp_reports, views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("glmweb.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The strings the pages' scripts show (djangojs domain, locale/<lang>/); only the
    # project's own catalog, not the admin's.
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["chat"]),
        name="javascript-catalog",
    ),
    path("healthz", views.healthz, name="healthz"),
    # Named by the Content-Security-Policy (report-uri, report-to).
    path("csp-report/", csp_reports.csp_report, name="csp_report"),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", views.favicon),
    path("videos/", include("media_jobs.urls")),
    path("characters/", include("chat.characters.urls")),
    path("", include("chat.urls")),
]
