"""Project-level pages: the about page and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static


def home(request: HttpRequest) -> HttpResponse:
    """Render the about page (base.html says which upstream this install talks to)."""
    return render(request, "home.html")


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers (for runapp and load balancers)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def favicon(request: HttpRequest) -> HttpResponse:
    """Send browsers asking for /favicon.ico to the site's icon (resolved per request,
    so production's hashed static names need no manifest at import time)."""
    return redirect(static("favicon.svg"))
