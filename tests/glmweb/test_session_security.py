"""Sessions (issue 13, item 5): the cookies' flags, and a production server that will
not start on a public SECRET_KEY or with DEBUG on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.glmweb.test_settings import CONFIG_VARS, run_python

BASE_DIR = Path(__file__).resolve().parents[2]
GOOD_KEY = "kq8Zr0-vXW3nL7pT2yB5cD9fG1hJ4mN6sQ8uE0aR3tY5wZ7xC9vB1nM3k"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"SECRET_KEY": GOOD_KEY, "DEBUG": "1"}, "refuses DEBUG=1"),
        ({}, "needs SECRET_KEY"),
        ({"SECRET_KEY": ""}, "needs SECRET_KEY"),
        (
            {"SECRET_KEY": "django-insecure-dev-only-key-do-not-use-in-production"},
            "needs SECRET_KEY",
        ),
        ({"SECRET_KEY": "django-insecure-" + "x" * 50}, "needs SECRET_KEY"),
    ],
    ids=["debug-on", "no-key", "empty-key", "our-dev-key", "startproject-key"],
)
def test_production_server_refuses_to_start(tmp_path, env, said):
    # The real start command (README, "Scaling past one machine"): Daphne on uvloop.
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    command = [sys.executable, "-m", "glmweb.serve", "-b", "127.0.0.1"]
    command += ["-p", str(free_port()), "glmweb.asgi:application"]
    try:
        result = subprocess.run(
            command,
            cwd=BASE_DIR,
            env={
                **clean,
                "DJANGO_SETTINGS_MODULE": "glmweb.settings",
                "GLMWEB_PRODUCTION": "1",
                "ALLOWED_HOSTS": "chat.example.com",
                "GLMWEB_VAR_DIR": str(tmp_path),
                **env,
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the production server started and kept serving")
    assert result.returncode != 0
    assert said in result.stderr
    assert "ImproperlyConfigured" in result.stderr


COOKIE_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in (
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT")}))
"""


def test_production_cookies_are_secure_and_hsts_is_on(tmp_path):
    result = run_python(
        COOKIE_SETTINGS,
        GLMWEB_PRODUCTION="1",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="chat.example.com",
        GLMWEB_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and values["SECURE_SSL_REDIRECT"]


@pytest.mark.django_db
def test_login_sets_an_httponly_samesite_session_cookie(django_user_model):
    django_user_model.objects.create_user("carol", password="pw-12345-long")
    browser = Client(enforce_csrf_checks=True)
    browser.get("/accounts/login/")
    token = browser.cookies["csrftoken"].value

    response = browser.post(
        "/accounts/login/",
        {
            "username": "carol",
            "password": "pw-12345-long",
            "csrfmiddlewaretoken": token,
        },
    )

    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    # Secure only in production (tested above): development runs on plain http.
    assert not session["secure"]
    csrf = response.cookies["csrftoken"]
    assert csrf["samesite"] == "Lax"
    # Readable on purpose: the pages' scripts send it back as X-CSRFToken.
    assert not csrf["httponly"]
