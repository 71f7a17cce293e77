"""The chat page itself: its strings come from the djangojs catalog in the user's
language, a refused setting is never reported as saved, and a failed reply shows the
platform's own words as text under a fold."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_chat_streaming import (
    CONVERSATION_URL,
    last_reply,
    new_chat,
    send_message,
)


def _conversation_id(page) -> str:
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def _stored(page, conversation_id: str) -> dict:
    return page.evaluate(
        "async (url) => (await (await fetch(url)).json()).conversation",
        f"/api/conversations/{conversation_id}/",
    )


def test_keyboard_slider_then_out_of_range_box_keeps_the_error_saves_nothing(page):
    new_chat(page)
    send_message(page, f"slider check {uuid.uuid4().hex[:8]}")
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    page.get_by_role("button", name="Settings", exact=True).click()
    status = page.locator("#settings-status")
    box = page.locator("#opt-temperature")
    box.fill("0.5")
    expect(status).to_have_text("Saved")
    conversation_id = _conversation_id(page)

    # The slider moved by keyboard, then 1.5 typed in its box key by key (so "1" and
    # "1." pass on the way), all before the settings' save delay has run out.
    page.focus("#opt-temperature-range")
    page.keyboard.press("ArrowRight")
    expect(box).to_have_value("0.51")
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("1.5")
    expect(status).to_contain_text("between 0 and 1")

    page.wait_for_timeout(1500)  # well past the 300 ms before a change is sent
    expect(status).to_contain_text("between 0 and 1")
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(box).to_have_value("1.5")
    # Neither the "1" typed on the way nor anything else took the refused value's
    # place (the slider's 0.51 may have been saved first, had it been sent in time).
    assert _stored(page, conversation_id)["temperature"] in {0.5, 0.51}


def test_page_strings_follow_the_language_default_chinese_then_english(
    chromium, live_app
):
    # A browser asking for a language the site lacks gets the default, zh-Hans.
    context = chromium.new_context(locale="fr-FR", base_url=live_app.base_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        sign_up(page)
        page.goto("/")
        expect(page.locator("#composer-input")).to_be_editable()
        send_message(page, "你好")
        page.wait_for_url(CONVERSATION_URL)
        expect(last_reply(page)).to_have_attribute("data-status", "complete")
        # Drawn by the scripts with strings from the catalog (no table in the page).
        expect(page.locator("li.msg-user .msg-role")).to_have_text("你")
        expect(last_reply(page).locator(".msg-role")).to_have_text("助手")
        expect(last_reply(page).get_by_role("button", name="复制")).to_be_visible()
        expect(page.locator("#conn-status")).to_have_text("已连接")
        expect(page.locator("#model-caps")).to_contain_text("文本")

        # The language cookie the site's switcher sets: the same page in English.
        context.add_cookies(
            [{"name": "django_language", "value": "en", "url": live_app.base_url}]
        )
        page.reload()
        expect(page.locator("li.msg-user .msg-role")).to_have_text("You")
        expect(last_reply(page).get_by_role("button", name="Copy")).to_be_visible()
        expect(page.locator("#conn-status")).to_have_text("Connected")
        # The catalog loads under the site's CSP (script-src 'self').
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        context.close()


HOSTILE = '<img src=x onerror="window.__pwned=1"> insufficient balance'


def _failed(message_id: str, *, retryable: bool, detail: str | None) -> dict:
    error = {"kind": "rejected", "message": "The reply failed.", "retryable": retryable}
    if detail is not None:
        error["detail"] = detail
    return {
        "id": message_id,
        "role": "assistant",
        "status": "error",
        "content": "",
        "model": "glm-4-flash",
        "error": error,
    }


def test_failed_reply_shows_the_platform_detail_as_text_and_retry_only_if_retryable(
    page,
):
    new_chat(page)
    send_message(page, "make a conversation")
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    conversation = _stored(page, _conversation_id(page))

    # The server stands in: its history holds two failed replies.
    def history(ws) -> None:
        user = {"id": str(uuid.uuid4()), "role": "user", "content": "hi"}
        frame = {
            "type": "conversation.history",
            "conversation": conversation,
            "messages": [
                {**user, "status": "complete"},
                _failed(str(uuid.uuid4()), retryable=True, detail=None),
                {**user, "id": str(uuid.uuid4()), "status": "complete"},
                _failed(str(uuid.uuid4()), retryable=False, detail=HOSTILE),
            ],
            "summaries": [],
        }
        ws.send(json.dumps(frame))

    page.route_web_socket(re.compile(r"/ws/chat/"), history)
    page.reload()

    first = page.locator("li.msg-assistant").first
    expect(first.locator(".msg-error-text")).to_have_text("The reply failed.")
    expect(first.locator(".msg-error-detail")).to_have_count(0)
    expect(first.locator(".retry-button")).to_have_count(1)  # hidden: not the last

    failed = last_reply(page).locator(".msg-status")
    expect(failed.locator(".msg-error-text")).to_have_text("The reply failed.")
    expect(failed.locator(".retry-button")).to_have_count(0)
    fold = failed.locator("details.msg-error-detail")
    expect(fold.locator("summary")).to_have_text("The platform's message")
    fold.locator("summary").click()
    expect(fold.locator(".msg-error-detail-text")).to_have_text(HOSTILE)
    expect(failed.locator("img")).to_have_count(0)
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
