"""The interface in a real browser: the phone layout gives the conversation the
screen, the keyboard shortcuts, IME-safe Enter, the reply-end announcement, toasts
that keep off the composer, the theme switch saved on the account, and axe-core
(vendored, injected here only) finding no serious or critical issue on any page in
either theme, on a phone and a desktop."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    axe_violations,
    new_context,
    sign_up,
)
from tests.browser.test_chat_streaming import (
    CONVERSATION_URL,
    last_reply,
    new_chat,
    send_message,
    wait_for_reply_text,
)

PAGES = [
    "/",  # chat, with a conversation open below
    "/videos/",
    "/characters/",
    "/characters/new/",
    "/characters/personas/",
    "/characters/import/",
    "/accounts/password/",
]


# Two runs here: with test_main_journey.py's four (each language on both viewports and
# in both themes), every page is checked in both languages and both themes.
@pytest.mark.parametrize(
    ("locale", "viewport", "dark"),
    [
        ("en-US", DESKTOP, False),
        ("zh-CN", PHONE, True),
    ],
    ids=["en-desktop-light", "zh-phone-dark"],
)
def test_axe_finds_no_serious_issue_on_any_page(
    chromium, live_app, locale, viewport, dark
):
    context = new_context(
        chromium, live_app, locale=locale, viewport=viewport, dark=dark
    )
    page = context.new_page()
    try:
        found: dict[str, list[str]] = {}
        for path in ("/accounts/login/", "/accounts/signup/"):
            page.goto(path)
            found[path] = axe_violations(page)
        sign_up(page)
        for path in PAGES:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            found[path] = axe_violations(page)
        # The chat page with a finished reply, the ⋯ menu and the settings open.
        page.goto("/")
        send_message(page, "Hello [[sim:tokens=30,rate=200]]")
        page.wait_for_url(CONVERSATION_URL)
        expect(last_reply(page)).to_have_attribute("data-status", "complete")
        page.locator("#settings-toggle").click()
        found["/c/… settings"] = axe_violations(page)
        page.locator("#settings-close").click()
        page.locator("#shortcuts-open").evaluate("b => b.click()")
        found["/c/… shortcuts"] = axe_violations(page)
        problems = {path: v for path, v in found.items() if v}
        assert not problems, problems
    finally:
        context.close()


def test_phone_chat_gives_the_conversation_the_screen(chromium, live_app):
    context = new_context(
        chromium, live_app, locale="zh-CN", viewport=PHONE, dark=False
    )
    page = context.new_page()
    try:
        sign_up(page)
        page.goto("/")
        send_message(page, "你好 [[sim:tokens=20,rate=200]]")
        page.wait_for_url(CONVERSATION_URL)
        expect(last_reply(page)).to_have_attribute("data-status", "complete")
        # The site's top bar is folded into the drawer; the chat header is one row.
        expect(page.locator("body > .topbar")).to_be_hidden()
        header = page.locator(".chat-header").bounding_box()
        assert header["height"] <= 60, header
        messages = page.locator("#messages").bounding_box()
        assert messages["height"] >= 0.6 * PHONE["height"], messages
        # Every visible control in the header and composer is a 44 px target.
        for selector in (
            "#open-sidebar",
            "#settings-toggle",
            "#export-menu summary",
            "#model-picker",
            "#send-button",
        ):
            box = page.locator(selector).bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44, (selector, box)
        # The drawer holds the site's links and the theme switch.
        page.locator("#open-sidebar").click()
        expect(page.locator(".drawer-nav select[name=theme]")).to_be_visible()
        expect(page.locator(".drawer-nav")).to_contain_text("视频")
        # The settings open as a sheet over the bottom of the screen.
        page.keyboard.press("Escape")
        expect(page.locator("#sidebar")).not_to_have_class("chat-sidebar open")
        page.locator("#settings-toggle").click()
        sheet = page.locator("#settings-panel").bounding_box()
        assert sheet["y"] + sheet["height"] >= PHONE["height"] - 1, sheet
    finally:
        context.close()


def test_toasts_never_cover_the_composer_on_a_phone(chromium, live_app):
    context = new_context(
        chromium, live_app, locale="en-US", viewport=PHONE, dark=False
    )
    page = context.new_page()
    try:
        sign_up(page)
        page.goto("/")
        send_message(page, f"toast {uuid.uuid4().hex[:6]} [[sim:tokens=5,rate=200]]")
        page.wait_for_url(CONVERSATION_URL)
        expect(last_reply(page)).to_have_attribute("data-status", "complete")
        page.locator("#open-sidebar").click()
        item = page.locator("#conv-list li.conv-item").first
        item.get_by_role("button", name="Actions for").click()
        page.get_by_role("menuitem", name="Archive").click()
        toast = page.locator(".toast").first
        expect(toast).to_be_visible()
        t, c = toast.bounding_box(), page.locator("#composer").bounding_box()
        assert t["y"] + t["height"] <= c["y"], (t, c)
    finally:
        context.close()


def test_keyboard_shortcuts(page):
    new_chat(page)
    send_message(page, "first words [[sim:tokens=5,rate=200]]")
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    expect(page.locator("#announcer")).to_have_text("The reply is complete.")

    # `/` goes to the message box; Ctrl+K to the search box.
    page.locator("#messages").focus()
    page.keyboard.press("/")
    expect(page.locator("#composer-input")).to_be_focused()
    expect(page.locator("#composer-input")).to_have_value("")
    page.keyboard.press("Control+K")
    expect(page.locator("#conv-search")).to_be_focused()

    # ↑ in the empty message box edits the last message.
    page.locator("#composer-input").focus()
    page.keyboard.press("ArrowUp")
    expect(page.locator("li.msg-user .edit-input")).to_be_focused()
    expect(page.locator("li.msg-user .edit-input")).to_have_value(
        "first words [[sim:tokens=5,rate=200]]"
    )
    page.keyboard.press("Escape")
    expect(page.locator("li.msg-user .edit-input")).to_have_count(0)

    # Esc stops a streaming reply.
    send_message(page, "a long one [[sim:tokens=400,rate=20]]")
    expect(page.locator("li.msg-assistant")).to_have_count(2)
    expect(page.locator("#stop-button")).to_be_visible()
    wait_for_reply_text(page, 10)
    page.keyboard.press("Escape")
    expect(last_reply(page)).to_have_attribute("data-status", "stopped")
    expect(page.locator("#announcer")).to_have_text("The reply was stopped.")

    # `?` lists the shortcuts; Ctrl+Shift+O starts a new chat.
    page.locator("#messages").focus()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-dialog")).to_be_visible()
    expect(page.locator("#shortcuts-dialog")).to_contain_text("Ctrl")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-dialog")).to_be_hidden()
    page.keyboard.press("Control+Shift+O")
    expect(page).not_to_have_url(CONVERSATION_URL)
    expect(page.locator("#chat-title")).to_have_text("New chat")


def test_enter_does_not_send_while_an_ime_composes(page):
    new_chat(page)
    box = page.locator("#composer-input")
    box.fill("nihao")
    # A pinyin IME: composition starts, Enter picks a candidate (isComposing), then
    # the composition ends with the chosen characters.
    box.dispatch_event("compositionstart", {"data": ""})
    box.dispatch_event(
        "keydown", {"key": "Enter", "code": "Enter", "isComposing": True}
    )
    box.dispatch_event("keydown", {"key": "Enter", "keyCode": 229})
    page.wait_for_timeout(300)
    expect(page.locator("li.msg-user")).to_have_count(0)
    expect(box).to_have_value("nihao")
    box.dispatch_event("compositionend", {"data": "你好"})
    box.fill("你好")
    box.press("Enter")
    expect(page.locator("li.msg-user .msg-body")).to_have_text("你好")


def test_sidebar_folds_away_on_a_wide_screen_and_stays_folded(page):
    new_chat(page)
    expect(page.locator("#sidebar")).to_be_visible()
    expect(page.locator("#open-sidebar")).to_be_hidden()
    page.locator("#collapse-sidebar").click()
    expect(page.locator("#sidebar")).to_be_hidden()
    expect(page.locator("#open-sidebar")).to_be_focused()
    page.reload()
    expect(page.locator("#sidebar")).to_be_hidden()
    page.locator("#open-sidebar").click()
    expect(page.locator("#sidebar")).to_be_visible()
    expect(page.locator("#conv-search")).to_be_focused()


def test_theme_switch_is_saved_on_the_account(page):
    new_chat(page)
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "system")
    page.select_option("body > .topbar select[name=theme]", "dark")
    expect(html).to_have_attribute("data-theme", "dark")
    # The choice is posted and the page comes back: wait for it and its stylesheet
    # (expect retries), not for the first paint.
    page.wait_for_load_state("load")
    expect(page.locator("body")).to_have_css("background-color", "rgb(17, 19, 24)")
    # The code colours follow: the dark highlight.js theme applies, the light one not.
    media = page.evaluate(
        "[...document.querySelectorAll('link[href*=highlightjs]')].map(l => l.media)"
    )
    assert media == ["not all", "all"], media
    # Another browser (no cookies) signed in as the same user sees it too.
    username = page.locator("[data-username]").get_attribute("data-username")
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct-horse-battery-staple-42")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    expect(html).to_have_attribute("data-theme", "dark")
