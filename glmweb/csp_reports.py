"""Content-Security-Policy violation reports: the endpoint the policy names; a count.

Browsers post a report for every blocked inline script, style or load (`report-uri`:
one `application/csp-report` object; `report-to`: an `application/reports+json` list,
named by the `Reporting-Endpoints` header this module's middleware adds). A violation
here means either a bug in our pages or someone's payload meeting the CSP, so each
report is counted in the cache (shared across processes with Redis) and a summary is
logged at most once every GLMWEB_CSP_REPORT_LOG_SECONDS: a page full of hostile content
must not turn into a log flood, nor a table to fill.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

logger = logging.getLogger(__name__)

REPORT_TYPES = ("application/csp-report", "application/reports+json")
ENDPOINT_NAME = (
    "csp-endpoint"  # the report-to group in settings.CONTENT_SECURITY_POLICY
)
COUNT_KEY = "glmweb:csp-reports:count"
LOGGED_KEY = "glmweb:csp-reports:logged"


class ReportRejectedError(ValueError):
    """The body is not a CSP report (not JSON, or not a report's shape)."""


def parse_reports(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """Return the violation reports in a report body; raise ReportRejectedError."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ReportRejectedError("not JSON") from None
    if content_type == "application/csp-report":
        # report-uri: {"csp-report": {...}}
        items = [data.get("csp-report")] if isinstance(data, dict) else []
    else:
        # report-to: [{"type": "csp-violation", "body": {...}}, ...]
        items = [
            item.get("body")
            for item in (data if isinstance(data, list) else [])
            if isinstance(item, dict) and item.get("type") == "csp-violation"
        ]
    reports = [item for item in items if isinstance(item, dict)]
    if not reports:
        raise ReportRejectedError("no CSP violation report")
    return reports


def record_reports(reports: list[dict[str, Any]]) -> int:
    """Count `reports`; log the total unless a summary went out recently. Return it."""
    cache.add(COUNT_KEY, 0, timeout=None)
    total = cache.incr(COUNT_KEY, len(reports))
    if cache.add(LOGGED_KEY, True, timeout=settings.GLMWEB_CSP_REPORT_LOG_SECONDS):
        latest = reports[-1]
        directive = latest.get("effective-directive") or latest.get(
            "effectiveDirective", ""
        )
        blocked = latest.get("blocked-uri") or latest.get("blockedURL", "")
        page = latest.get("document-uri") or latest.get("documentURL", "")
        # The page and the blocked thing are cut short: they are the sender's words.
        logger.warning(
            "CSP violation reports: %d in all; latest %s blocked %s on %s",
            total,
            str(directive)[:40],
            str(blocked)[:120],
            str(page)[:120],
        )
    return total


def report_count() -> int:
    """Return how many reports were counted (since the cache was last emptied)."""
    return int(cache.get(COUNT_KEY, 0))


@csrf_exempt  # browsers send reports without our token (and no cookies cross-site)
@require_http_methods(["GET", "POST"])
def csp_report(request: HttpRequest) -> HttpResponse:
    """POST: count a report (204; 413 too large, 415 wrong type, 400 garbage).
    GET: the count, to staff only (404 to everyone else)."""
    if request.method == "GET":
        if not request.user.is_staff:
            return HttpResponse(status=404)
        return JsonResponse({"reports": report_count()})
    content_type = (request.content_type or "").lower()
    if content_type not in REPORT_TYPES:
        return HttpResponse(status=415)
    limit = int(settings.GLMWEB_CSP_REPORT_MAX_BYTES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if declared > limit:
        return HttpResponse(status=413)
    body = request.read(limit + 1)
    if len(body) > limit:
        return HttpResponse(status=413)
    try:
        reports = parse_reports(body, content_type)
    except ReportRejectedError:
        return HttpResponse(status=400)
    record_reports(reports)
    return HttpResponse(status=204)


class ReportingEndpointsMiddleware:
    """Name the report endpoint for `report-to` on every response carrying a CSP."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            # The Reporting API wants an absolute URL.
            url = request.build_absolute_uri(reverse("csp_report"))
            response["Reporting-Endpoints"] = f'{ENDPOINT_NAME}="{url}"'
        return response
