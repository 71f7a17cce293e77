"""Log-in and sign-up are rate-limited per account and per address, with a message in
the user's language; the right password does not get in while an account is
throttled."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

PASSWORD = "pw-12345-long"


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", password=PASSWORD)


def log_in(client, username, password, address="10.0.0.1", language="en"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_wrong_passwords_then_the_right_one_is_refused_429(client, bob, settings):
    for _ in range(settings.GLMWEB_LOGIN_FAILURES_PER_ACCOUNT):
        assert log_in(client, "bob", "nope").status_code == 200

    response = log_in(client, "BOB", PASSWORD)  # the right password, any case

    assert response.status_code == 429
    assert "Too many attempts. Please wait 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_account_limit_holds_across_addresses(client, bob, settings):
    for n in range(settings.GLMWEB_LOGIN_FAILURES_PER_ACCOUNT):
        log_in(client, "bob", "nope", address=f"10.0.1.{n}")

    assert log_in(client, "bob", PASSWORD, address="10.9.9.9").status_code == 429


def test_the_address_limit_holds_across_accounts(client, bob, settings):
    settings.GLMWEB_LOGIN_FAILURES_PER_ADDRESS = 3
    for n in range(3):
        log_in(client, f"someone{n}", "nope")

    assert log_in(client, "bob", PASSWORD).status_code == 429
    # Another address still gets in.
    assert log_in(client, "bob", PASSWORD, address="10.0.0.2").status_code == 302


def test_the_refusal_speaks_chinese(client, bob, settings):
    settings.GLMWEB_LOGIN_FAILURES_PER_ACCOUNT = 1
    log_in(client, "bob", "nope")

    response = log_in(client, "bob", PASSWORD, language="zh-CN")

    assert response.status_code == 429
    assert "尝试次数过多，请等待 15 分钟后再试" in response.content.decode()


def test_a_few_failures_then_the_right_password_gets_in(client, bob, settings):
    for _ in range(settings.GLMWEB_LOGIN_FAILURES_PER_ACCOUNT - 1):
        log_in(client, "bob", "nope")

    assert log_in(client, "bob", PASSWORD).status_code == 302


def test_signups_from_one_address_are_limited(client, db, settings):
    settings.GLMWEB_SIGNUPS_PER_ADDRESS = 2
    for n in range(2):
        response = client.post(
            "/accounts/signup/",
            {"username": f"new{n}", "password1": "x", "password2": "y"},
            REMOTE_ADDR="10.0.0.7",
        )
        assert response.status_code == 400

    response = client.post(
        "/accounts/signup/",
        {"username": "new9", "password1": PASSWORD, "password2": PASSWORD},
        REMOTE_ADDR="10.0.0.7",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert 'value="new9"' in response.content.decode()
    assert not get_user_model().objects.filter(username="new9").exists()
