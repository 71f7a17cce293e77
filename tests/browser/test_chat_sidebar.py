"""The chat page's sidebar in a real browser: rename in place, search by title and by
message text, delete with undo, pin; and the page on a phone-sized screen in Chinese."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_up
from tests.browser.test_chat_streaming import (
    CONVERSATION_URL,
    last_reply,
    new_chat,
    send_message,
)


def item(page: Page, text: str):
    return page.locator("#conv-list li.conv-item", has_text=text)


def chat_and_wait(page: Page, text: str) -> None:
    send_message(page, text)
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    # Wait for the automatic title, so it cannot land after a rename.
    expect(page.locator("#chat-title")).not_to_have_text(
        re.compile("^(New chat|Loading…)$")
    )


def test_sidebar_rename_search_pin_and_delete_with_undo(page):
    new_chat(page)
    chat_and_wait(page, "apples are red")
    page.click("#new-chat")
    expect(page).to_have_url(re.compile(r".*/$"))
    expect(page.locator("li.msg")).to_have_count(0)
    chat_and_wait(page, "bananas are yellow")
    expect(page.locator("#conv-list li.conv-item")).to_have_count(2)

    # Rename in place: Enter saves, and the new title is the server's.
    apples = item(page, "apples")
    apples.hover()
    apples.get_by_role("button", name="Actions for").click()
    page.get_by_role("menuitem", name="Rename").click()
    field = page.locator("#conv-list .rename-input")
    field.fill("Fruit notes")
    field.press("Enter")
    expect(item(page, "Fruit notes")).to_have_count(1)
    page.reload()
    expect(item(page, "Fruit notes")).to_have_count(1)

    # Search by message text (with a snippet), then by title, then for nothing.
    search = page.locator("#conv-search")
    search.fill("bananas")
    expect(page.locator("#conv-list li.conv-item")).to_have_count(1)
    expect(page.locator("#conv-list li.conv-item")).to_contain_text("bananas")
    search.fill("Fruit")
    expect(page.locator("#conv-list li.conv-item")).to_have_count(1)
    expect(page.locator("#conv-list li.conv-item")).to_contain_text("Fruit notes")
    search.fill("no such words anywhere")
    expect(page.locator("#conv-no-match")).to_be_visible()
    expect(page.locator("#conv-list li.conv-item")).to_have_count(0)
    search.fill("")
    expect(page.locator("#conv-list li.conv-item")).to_have_count(2)

    # Pin: the pinned conversation comes first.
    fruit = item(page, "Fruit notes")
    fruit.hover()
    fruit.get_by_role("button", name="Actions for").click()
    page.get_by_role("menuitem", name="Pin").click()
    expect(page.locator("#conv-list li.conv-item").first).to_contain_text("Fruit notes")
    expect(page.locator("#conv-list li.conv-item").first).to_have_class(
        re.compile("pinned")
    )

    # Delete the open conversation: it leaves the list, the page goes to a new chat,
    # and Undo brings it back.
    bananas = item(page, "bananas")
    bananas.hover()
    bananas.get_by_role("button", name="Actions for").click()
    page.get_by_role("menuitem", name="Delete").click()
    expect(item(page, "bananas")).to_have_count(0)
    expect(page).to_have_url(re.compile(r".*/$"))
    toast = page.locator(".toast", has_text="deleted")
    expect(toast).to_be_visible()
    toast.get_by_role("button", name="Undo").click()
    expect(item(page, "bananas")).to_have_count(1)
    expect(page.locator(".toast", has_text="restored")).to_be_visible()

    # Delete for good this time (no undo): gone after a reload too.
    fruit = item(page, "Fruit notes")
    fruit.hover()
    fruit.get_by_role("button", name="Actions for").click()
    page.get_by_role("menuitem", name="Delete").click()
    expect(item(page, "Fruit notes")).to_have_count(0)
    page.reload()
    expect(page.locator("#conv-list li.conv-item")).to_have_count(1)
    expect(item(page, "Fruit notes")).to_have_count(0)


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


def test_phone_sized_page_in_chinese_is_usable(zh_page):
    page = zh_page
    sign_up(page)
    page.goto("/")
    width = page.viewport_size["width"]
    height = page.viewport_size["height"]

    # Chinese strings, the list folded away, the composer on screen.
    expect(page.locator("#send-button")).to_have_text("发送")
    sidebar = page.locator("#sidebar")
    box = sidebar.bounding_box()
    assert box["x"] + box["width"] <= 1, box
    composer = page.locator("#composer-input").bounding_box()
    assert composer["y"] + composer["height"] <= height, composer
    assert composer["width"] >= width * 0.6, composer
    assert no_horizontal_scroll(page)

    page.locator("#composer-input").tap()
    send_message(page, "你好，请介绍一下你自己")
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    expect(last_reply(page).locator(".msg-body")).to_contain_text("这是对")
    expect(last_reply(page).get_by_role("button", name="复制")).to_be_visible()
    assert no_horizontal_scroll(page)

    # The settings panel fits the screen.
    page.get_by_role("button", name="设置").tap()
    panel = page.locator("#settings-panel")
    expect(panel).to_be_visible()
    panel_box = panel.bounding_box()
    assert panel_box["x"] >= 0 and panel_box["x"] + panel_box["width"] <= width + 1
    page.get_by_role("button", name="关闭", exact=True).tap()
    expect(panel).to_be_hidden()

    # The drawer opens over the page, lists the chat, and a new chat closes it.
    page.get_by_role("button", name="显示对话列表").tap()
    expect(sidebar).to_have_class(re.compile("open"))
    page.wait_for_timeout(300)  # the slide-in transition
    box = sidebar.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    expect(page.locator("#conv-list li.conv-item")).to_have_count(1)
    page.get_by_role("link", name="新对话").tap()
    expect(sidebar).not_to_have_class(re.compile("open"))
    expect(page).to_have_url(re.compile(r".*/$"))
    expect(page.locator("#chat-title")).to_have_text("新对话")
    # Back to the conversation through the drawer.
    page.get_by_role("button", name="显示对话列表").tap()
    page.locator("#conv-list li.conv-item a").first.tap()
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    assert no_horizontal_scroll(page)
