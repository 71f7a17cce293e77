"""Project-level pages: the about page and the health check."""

from __future__ import annotations

import os

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from glmweb import saturation


def home(request: HttpRequest) -> HttpResponse:
    """Render the about page (base.html says which upstream this install talks to)."""
    return render(request, "home.html")


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers (for runapp and load balancers), with
    this web process's pid and event-loop lag: `saturated` true means add a process
    (glmweb/saturation.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True, "pid": os.getpid(), **saturation.health()})


def favicon(request: HttpRequest) -> HttpResponse:
    """Send browsers asking for /favicon.ico to the site's icon (resolved per request,
    so production's hashed static names need no manifest at import time)."""
    return redirect(static("favicon.svg"))
