"""Sign-up (and switching it off), log-in, log-out and password change."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

PASSWORD = "correct-horse-battery-staple-42"
pytestmark = pytest.mark.django_db


def test_signup_creates_the_account_and_signs_it_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "alice", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="alice").exists()
    assert "_auth_user_id" in client.session


def test_signup_with_mismatched_passwords_is_400_and_keeps_the_username(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "alice", "password1": PASSWORD, "password2": PASSWORD + "x"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="alice"' in body
    assert "password fields didn" in body
    assert not get_user_model().objects.exists()


def test_signup_errors_are_in_chinese_for_chinese_browsers(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "alice", "password1": "123", "password2": "123"},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert response.status_code == 400
    assert "密码" in response.content.decode()


def test_signup_switched_off_is_404_and_creates_nothing(client, settings):
    settings.GLMWEB_ALLOW_SIGNUP = False
    response = client.post(
        "/accounts/signup/",
        {"username": "alice", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 404
    assert not get_user_model().objects.exists()
    login_page = client.get("/accounts/login/").content.decode()
    assert "/accounts/signup/" not in login_page


def test_login_logout_and_password_change(client):
    user = get_user_model().objects.create_user("bob", password=PASSWORD)
    assert (
        client.post(
            "/accounts/login/", {"username": "bob", "password": "nope"}
        ).status_code
        == 200
    )  # the form again, with its error
    assert "_auth_user_id" not in client.session
    client.post("/accounts/login/", {"username": "bob", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(user.pk)

    new_password = PASSWORD + "-new"
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)

    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_password_change_needs_login(client):
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
