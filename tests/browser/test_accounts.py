"""Signing up, out and in again in a real browser."""

from __future__ import annotations

from tests.browser.conftest import PASSWORD, sign_up


def test_sign_up_log_out_and_log_in_again(page):
    username = sign_up(page)
    page.click("text=Log out")
    page.wait_for_url("**/accounts/login/**")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert page.locator(".form-errors").is_visible()
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(f"[data-username='{username}']")


def test_sign_up_form_in_chinese_says_what_is_wrong(zh_page):
    zh_page.goto("/accounts/signup/")
    zh_page.fill("input[name=username]", "someone")
    zh_page.fill("input[name=password1]", "12345678")
    zh_page.fill("input[name=password2]", "12345679")
    zh_page.click("button[type=submit]")
    errors = zh_page.locator(".field-errors").all_inner_texts()
    assert any("密码" in text for text in errors), errors
    # What was typed (except the passwords) is still there.
    assert zh_page.input_value("input[name=username]") == "someone"
