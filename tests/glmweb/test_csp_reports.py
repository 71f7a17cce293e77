"""The CSP report endpoint: pages name it, it counts reports of both formats without a
CSRF token, logs a summary at most once per interval, and refuses oversized, mistyped
and garbage bodies with a clean 4xx."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from glmweb import csp_reports

URL = "/csp-report/"
LEGACY = {
    "csp-report": {
        "document-uri": "http://127.0.0.1/c/1/",
        "effective-directive": "style-src-attr",
        "blocked-uri": "inline",
    }
}
REPORTING_API = [
    {
        "type": "csp-violation",
        "url": "http://127.0.0.1/c/1/",
        "body": {"effectiveDirective": "img-src", "blockedURL": "https://e.example/x"},
    },
    {"type": "deprecation", "body": {"id": "x"}},  # not ours to count
    {
        "type": "csp-violation",
        "body": {"effectiveDirective": "script-src-elem", "blockedURL": "inline"},
    },
]


@pytest.fixture(autouse=True)
def fresh_count():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def browser():
    # Browsers send reports without the CSRF token: the client checks it like Django.
    return Client(enforce_csrf_checks=True)


def post(client, body, content_type="application/csp-report"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL, data, content_type=content_type)


@pytest.mark.django_db
def test_pages_name_the_report_endpoint_in_report_uri_and_report_to(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["report-uri"] == reverse("csp_report") == URL
    assert directives["report-to"] == csp_reports.ENDPOINT_NAME
    assert response["Reporting-Endpoints"] == (
        f'{csp_reports.ENDPOINT_NAME}="http://testserver{URL}"'
    )


@pytest.mark.django_db
def test_reports_of_both_formats_are_counted_without_a_csrf_token(browser):
    assert post(browser, LEGACY).status_code == 204
    assert csp_reports.report_count() == 1
    response = post(browser, REPORTING_API, "application/reports+json")
    assert response.status_code == 204
    assert csp_reports.report_count() == 3  # two violations; the deprecation not


@pytest.mark.django_db
def test_the_count_is_logged_at_most_once_per_interval(browser, caplog, settings):
    caplog.set_level(logging.WARNING, logger="glmweb.csp_reports")
    for _ in range(5):
        assert post(browser, LEGACY).status_code == 204
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "CSP violation reports: 1 in all; latest style-src-attr blocked inline on "
        "http://127.0.0.1/c/1/"
    ]
    cache.delete(csp_reports.LOGGED_KEY)  # the interval has passed
    assert post(browser, LEGACY).status_code == 204
    assert caplog.records[-1].getMessage().startswith("CSP violation reports: 6 in all")


@pytest.mark.django_db
def test_oversized_mistyped_and_garbage_bodies_are_refused_and_not_counted(
    browser, settings
):
    settings.GLMWEB_CSP_REPORT_MAX_BYTES = 1024
    padded = {"csp-report": {**LEGACY["csp-report"], "sample": "x" * 2000}}
    assert post(browser, padded).status_code == 413
    assert post(browser, b"\xff\xfe not json").status_code == 400
    assert post(browser, b"[1, 2, 3]").status_code == 400
    assert post(browser, {"csp-report": "inline"}).status_code == 400
    assert (
        post(
            browser, [{"type": "csp-violation"}], "application/reports+json"
        ).status_code
        == 400
    )
    assert post(browser, LEGACY, "application/json").status_code == 415
    assert post(browser, LEGACY, "text/plain").status_code == 415
    assert browser.put(URL, b"{}").status_code == 405
    assert csp_reports.report_count() == 0


@pytest.mark.django_db
def test_the_count_is_shown_to_staff_only(client, browser):
    post(browser, LEGACY)
    assert client.get(URL).status_code == 404
    user = get_user_model().objects.create_user("ops", password="pw-12345-long")
    client.force_login(user)
    assert client.get(URL).status_code == 404
    user.is_staff = True
    user.save()
    assert client.get(URL).json() == {"reports": 1}
