"""Every page says which upstream answers (never the key); the health check."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_pages_speaks_simplified_chinese_by_default(client, settings):
    settings.ZHIPUAI_API_KEY = ""
    page = client.get("/accounts/login/").content.decode()
    assert "未设置 ZHIPUAI_API_KEY：回复来自本地 GLM 模拟器。" in page
    assert 'lang="zh-hans"' in page


@pytest.mark.django_db
def test_pages_speaks_english_to_an_english_browser(client, settings):
    settings.ZHIPUAI_API_KEY = ""
    page = client.get(
        "/accounts/login/", headers={"accept-language": "en"}
    ).content.decode()
    assert "replies come from the local GLM simulator" in page
    assert 'lang="en"' in page


@pytest.mark.django_db
def test_pages_with_a_key_names_the_platform_but_never_shows_the_key(client, settings):
    settings.ZHIPUAI_API_KEY = "abcdef123456.SeCrEtPaRt987"
    page = client.get(
        "/accounts/login/", headers={"accept-language": "en"}
    ).content.decode()
    assert 'data-upstream="platform"' in page
    assert "abcdef123456" not in page and "SeCrEtPaRt987" not in page


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_static_files_are_served_without_a_separate_web_server(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert b"font-family" in b"".join(response.streaming_content)


@pytest.mark.django_db
def test_pages_forbid_inline_script_and_style_by_content_security_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_favicon_is_served_where_browsers_look_for_it(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert b"<svg" in b"".join(response.streaming_content)
