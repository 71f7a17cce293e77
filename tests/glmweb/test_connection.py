"""The connection page: with a key set, its Check button asks the platform (here the
simulator) for one token and says whether the key works, was refused (in the
platform's words) or the platform could not be reached; the key never reaches the
page, and nothing is asked of the platform until the button is pressed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import free_port

pytestmark = pytest.mark.django_db

URL = "/accounts/connection/"


@pytest.fixture
def signed_in(client, django_user_model):
    user = django_user_model.objects.create_user("conn-user", password="pw-12345678")
    client.force_login(user)
    return client


def chat_calls(simulator) -> list[dict]:
    return [r for r in simulator.requests() if r["path"].endswith("chat/completions")]


def clear(simulator) -> None:
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(f"{simulator.root}/_sim/requests", method="DELETE"),
        timeout=5,
    ).close()


def test_url_is_the_named_one():
    assert reverse("accounts:connection") == URL


def test_a_working_key_is_checked_with_one_token(signed_in, glm_settings, simulator):
    clear(simulator)
    assert "data-outcome" not in signed_in.get(URL).content.decode()
    assert chat_calls(simulator) == []  # showing the page costs nothing

    page = signed_in.post(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'data-outcome="works"' in page and "The key works." in page
    (call,) = chat_calls(simulator)
    assert call["json"]["max_tokens"] == 1
    assert call["json"]["model"] == glm_settings.GLMWEB_TITLE_MODEL
    assert "test-secret" not in page and "test-id" not in page


def test_a_refused_key_shows_the_platforms_message_not_the_key(
    signed_in, glm_settings, simulator
):
    glm_settings.ZHIPUAI_API_KEY = "bad-key.secret-words"

    page = signed_in.post(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert 'data-outcome="refused"' in page and "平台拒绝了这个密钥。" in page
    assert 'class="platform-message"' in page
    assert "bad-key" not in page and "secret-words" not in page


def test_an_unreachable_platform_is_said_so(signed_in, glm_settings):
    glm_settings.ZHIPUAI_BASE_URL = f"http://127.0.0.1:{free_port()}/api/paas/v4/"

    page = signed_in.post(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'data-outcome="unreachable"' in page
    assert "The platform could not be reached." in page


def test_without_a_key_the_page_names_the_simulator(signed_in, settings, simulator):
    settings.ZHIPUAI_API_KEY = ""
    clear(simulator)

    page = signed_in.post(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "GLM simulator" in page and "Check the key" not in page
    assert chat_calls(simulator) == []


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_account_page_links_to_it(signed_in):
    assert URL in signed_in.get(reverse("accounts:password_change")).content.decode()
