"""The theme and language saved on the account: the form's outcomes (saved, refused,
an unsafe `next`), and every page then speaking the saved language and wearing the
saved theme, whatever the browser asks for."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chat.models import Preferences

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("prefs-user", password="pw-12345678")


def test_saved_theme_and_language_apply_on_every_page(client, user):
    client.force_login(user)
    response = client.post(
        reverse("accounts:preferences"),
        {"theme": "dark", "language": "zh-hans", "next": "/videos/"},
    )
    assert response.status_code == 302 and response["Location"] == "/videos/"
    saved = Preferences.objects.get(user=user)
    assert (saved.theme, saved.language) == ("dark", "zh-hans")

    client.cookies.clear()  # another browser: only the account remembers
    client.force_login(user)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="zh-hans" data-theme="dark"' in page
    assert "新对话" in page
    # The code colours follow the chosen theme, not the system's.
    assert 'github-dark.min.css" media="all"' in page


def test_system_theme_by_default(client, user):
    client.force_login(user)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-theme="system"' in page
    assert 'github.min.css" media="(prefers-color-scheme: light)"' in page


@pytest.mark.parametrize(
    ("language", "text"), [("en", "is not available"), ("zh-hans", "没有这个主题")]
)
def test_unknown_theme_is_refused_in_the_users_language(client, user, language, text):
    client.force_login(user)
    response = client.post(
        reverse("accounts:preferences"),
        {"theme": "neon", "language": "en"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert text in response.content.decode()
    assert not Preferences.objects.filter(user=user).exists()


def test_next_elsewhere_goes_home_and_anonymous_keeps_only_the_cookie(client):
    response = client.post(
        reverse("accounts:preferences"),
        {"theme": "light", "language": "zh-hans", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert response.cookies["django_language"].value == "zh-hans"
    assert not Preferences.objects.exists()
