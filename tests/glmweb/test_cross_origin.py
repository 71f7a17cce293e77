"""Cross-origin POSTs (issue 13, item 5): a request carrying the user's cookies and
even a valid CSRF token, but sent from another origin (another site, another port of
this host, a sandboxed frame's "null"), is refused with 403 at every kind of
state-changing endpoint (a form, the JSON API, an upload, the log-in form) and changes
nothing; the same request from this origin goes through."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from chat.models import Attachment, Character, Conversation

pytestmark = pytest.mark.django_db

FOREIGN = ["https://evil.example", "http://testserver:8001", "null"]
SAME = "http://testserver"


def png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, format="PNG")
    out.seek(0)
    out.name = "a.png"
    return out


def character_form(token: str) -> dict[str, Any]:
    return {
        "data": {
            "csrfmiddlewaretoken": token,
            "name": "Cross",
            "default_model": "charglm-4",
            "visibility": "private",
        }
    }


def json_api(token: str) -> dict[str, Any]:
    return {
        "data": {},
        "content_type": "application/json",
        "headers": {"x-csrftoken": token},
    }


def upload(token: str) -> dict[str, Any]:
    return {"data": {"file": png()}, "headers": {"x-csrftoken": token}}


def login_form(token: str) -> dict[str, Any]:
    return {
        "data": {
            "csrfmiddlewaretoken": token,
            "username": "carol",
            "password": "pw-12345-long",
        }
    }


# kind -> (url, request arguments from the CSRF token, logged in first, rows it adds)
KINDS: dict[str, tuple[str, Callable[[str], dict[str, Any]], bool, Callable[[], int]]]
KINDS = {
    "form": ("/characters/new/", character_form, True, Character.objects.count),
    "json-api": ("/api/conversations/", json_api, True, Conversation.objects.count),
    "upload": ("/api/attachments/", upload, True, Attachment.objects.count),
    "login-form": ("/accounts/login/", login_form, False, lambda: 0),
}


def browser_with_token(user: Any, logged_in: bool) -> tuple[Client, str]:
    browser = Client(enforce_csrf_checks=True)
    if logged_in:
        browser.force_login(user)
    # A page with a form sets the CSRF cookie.
    browser.get("/characters/new/" if logged_in else "/accounts/login/")
    return browser, browser.cookies["csrftoken"].value


@pytest.fixture
def carol(django_user_model, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return django_user_model.objects.create_user("carol", password="pw-12345-long")


@pytest.mark.parametrize("origin", FOREIGN)
@pytest.mark.parametrize("kind", list(KINDS))
def test_cross_origin_post_is_refused_and_changes_nothing(carol, kind, origin):
    url, arguments, logged_in, rows = KINDS[kind]
    browser, token = browser_with_token(carol, logged_in)

    response = browser.post(url, **arguments(token), HTTP_ORIGIN=origin)

    assert response.status_code == 403
    assert rows() == 0
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize("kind", list(KINDS))
def test_same_origin_post_goes_through(carol, kind):
    url, arguments, logged_in, rows = KINDS[kind]
    browser, token = browser_with_token(carol, logged_in)

    response = browser.post(url, **arguments(token), HTTP_ORIGIN=SAME)

    assert response.status_code in (201, 302), response.content
    assert rows() == (0 if kind == "login-form" else 1)
    if kind == "login-form":
        assert response.cookies["sessionid"].value
