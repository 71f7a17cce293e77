"""The main journey in a real browser, as a new user takes it: sign up, chat and watch
the reply stream, change the model and the settings, ask about an image, search the
web and follow the citations, chat with a character, queue a video and watch it move,
rename, search and delete a conversation, log out.

Four runs cover both languages, a touch phone and a desktop, and both themes (each
once per language). Every run checks that the labels are in its language, that the
theme is applied, and that axe-core finds no serious or critical issue on each page
it visits.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    axe_violations,
    new_context,
    sign_up,
)
from tests.browser.test_chat_attachments import png
from tests.browser.test_chat_streaming import CONVERSATION_URL, last_reply, send_message

# What a person sees, per language; each is read from the page, never from a catalog.
LABELS = {
    "en": {
        "send": "Send",
        "settings": "Conversation settings",
        "saved": "Saved",
        "complete": "The reply is complete.",
        "rename": "Rename",
        "delete": "Delete",
        "deleted": "deleted",
        "characters": "Characters",
        "start_chat": "Start chat",
        "videos": "Videos",
        "generating": "Generating",
        "done": "Done",
        "log_out": "Log out",
        "log_in": "Log in",
    },
    "zh-Hans": {
        "send": "发送",
        "settings": "对话设置",
        "saved": "已保存",
        "complete": "回复已完成。",
        "rename": "重命名",
        "delete": "删除",
        "deleted": "已删除",
        "characters": "角色",
        "start_chat": "开始对话",
        "videos": "视频",
        "generating": "生成中",
        "done": "已完成",
        "log_out": "退出登录",
        "log_in": "登录",
    },
}
BACKGROUND = {False: "rgb(255, 255, 255)", True: "rgb(17, 19, 24)"}
RUNS = [
    ("en", PHONE, False),
    ("en", DESKTOP, True),
    ("zh-Hans", PHONE, True),
    ("zh-Hans", DESKTOP, False),
]
BROWSER_LOCALE = {"en": "en-US", "zh-Hans": "zh-CN"}


class Journey:
    """One user's run: the page, its language's labels, and what axe found where."""

    def __init__(self, page: Page, language: str, dark: bool, phone: bool) -> None:
        self.page = page
        self.words = LABELS[language]
        self.language = language
        self.dark = dark
        self.phone = phone
        self.found: dict[str, list[str]] = {}

    def check(self, where: str) -> None:
        """Check the page's language and theme, and run axe-core on it."""
        page = self.page
        # Language tags are case-insensitive; Django writes them in lower case.
        lang = re.compile(f"^{self.language}$", re.IGNORECASE)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("body")).to_have_css(
            "background-color", BACKGROUND[self.dark]
        )
        self.found[where] = axe_violations(page)

    def open_drawer(self) -> None:
        # On a phone the conversation list and the site's links live in a drawer.
        if self.phone:
            self.page.locator("#open-sidebar").click()
            expect(self.page.locator("#sidebar")).to_be_visible()

    def close_drawer(self) -> None:
        if self.phone:
            self.page.locator("#close-sidebar").click()

    def conversation_menu(self, row, action: str) -> None:
        row.hover()
        row.locator("button.conv-more").click()
        self.page.get_by_role("menuitem", name=self.words[action]).click()


@pytest.mark.parametrize(
    ("language", "viewport", "dark"),
    RUNS,
    ids=["en-phone-light", "en-desktop-dark", "zh-phone-dark", "zh-desktop-light"],
)
def test_main_journey(chromium, live_app, language, viewport, dark, tmp_path):
    context = new_context(
        chromium,
        live_app,
        locale=BROWSER_LOCALE[language],
        viewport=viewport,
        dark=dark,
    )
    page = context.new_page()
    journey = Journey(page, language, dark, phone=viewport == PHONE)
    words = journey.words
    zh = language == "zh-Hans"
    try:
        # Sign up, then chat: the reply streams in and ends.
        page.goto("/accounts/signup/")
        journey.check("sign-up")
        username = sign_up(page)
        page.goto("/")
        expect(page.get_by_role("button", name=words["send"])).to_be_visible()
        first = "你好，介绍一下你自己" if zh else "Hello, who are you?"
        send_message(page, f"{first} [[sim:tokens=20,rate=40]]")
        page.wait_for_url(CONVERSATION_URL)
        expect(last_reply(page)).to_have_attribute("data-status", "streaming")
        expect(last_reply(page).locator(".msg-body")).not_to_be_empty()
        expect(last_reply(page)).to_have_attribute("data-status", "complete")
        expect(page.locator("#announcer")).to_have_text(words["complete"])

        # Another model, and a setting in the settings sheet.
        page.locator("#model-picker").select_option("glm-4-flash")
        expect(page.locator("#settings-status")).to_have_text(words["saved"])
        page.locator("#settings-toggle").click()
        expect(page.locator("#settings-panel h2")).to_have_text(words["settings"])
        page.locator("#opt-temperature").fill("0.3")
        page.locator("#opt-temperature").press("Tab")
        expect(page.locator("#settings-status")).to_have_text(words["saved"])
        page.locator("#settings-close").click()
        expect(page.locator("#settings-panel")).to_be_hidden()

        # An image, and a question about it, on a vision model.
        page.locator("#model-picker").select_option("glm-4v-plus")
        with page.expect_file_chooser() as chooser:
            page.locator("#attach-button").click()
        chooser.value.set_files(
            {
                "name": "red.png",
                "mimeType": "image/png",
                "buffer": png((40, 30), (255, 0, 0)),
            }
        )
        expect(
            page.locator('#attach-tray .attach-item[data-status="ready"]')
        ).to_have_count(1)
        send_message(
            page, "这张图片是什么颜色？" if zh else "What colour is this picture?"
        )
        expect(page.locator("li.msg-assistant")).to_have_count(2)
        expect(last_reply(page)).to_have_attribute("data-status", "complete")
        expect(last_reply(page).locator(".msg-body")).to_contain_text("#ff0000")
        expect(page.locator("li.msg-user .msg-attachment-img")).to_have_count(1)

        # A web search: the answer cites a source, linked below it.
        page.locator("#model-picker").select_option("glm-4.6")
        page.locator("#opt-web-search").check()
        asked = "今天有什么新闻？[ref_1]" if zh else "What is in the news? [ref_1]"
        send_message(page, f"{asked} [[sim:echo]]")
        expect(page.locator("li.msg-assistant")).to_have_count(3)
        expect(last_reply(page)).to_have_attribute("data-status", "complete")
        message_id = last_reply(page).get_attribute("data-id")
        cite = last_reply(page).locator("sup.cite a.cite-link")
        expect(cite).to_have_attribute("href", f"#source-{message_id}-1")
        expect(last_reply(page).locator(f"#source-{message_id}-1 a")).to_be_visible()
        # One axe run for the chat page: replies, an image, sources, the sheet open.
        page.locator("#settings-toggle").click()
        journey.check("chat")
        page.locator("#settings-close").click()

        # Rename, search for, then delete that conversation from the list.
        title = "图片与新闻" if zh else "Pictures and news"
        journey.open_drawer()
        rows = page.locator("#conv-list li.conv-item")
        expect(rows).to_have_count(1)
        journey.conversation_menu(rows.first, "rename")
        field = page.locator("#conv-list .rename-input")
        field.fill(title)
        field.press("Enter")
        expect(page.locator("#conv-list li.conv-item", has_text=title)).to_have_count(1)
        page.locator("#conv-search").fill(title)
        expect(page.locator("#conv-list li.conv-item")).to_have_count(1)
        page.locator("#conv-search").fill("no such words anywhere")
        expect(page.locator("#conv-no-match")).to_be_visible()
        page.locator("#conv-search").fill("")
        journey.conversation_menu(rows.first, "delete")
        expect(page.locator(".toast", has_text=words["deleted"])).to_be_visible()
        expect(page.locator("#conv-list li.conv-item", has_text=title)).to_have_count(0)
        expect(page).not_to_have_url(CONVERSATION_URL)

        # A character of one's own, and a chat with it.
        page.goto("/characters/")
        expect(page.locator("h1")).to_have_text(words["characters"])
        journey.check("characters")
        page.goto("/characters/new/")
        journey.check("character form")
        name = "李白" if zh else "Ada"
        page.fill("input[name=name]", name)
        page.fill("textarea[name=description]", "{{char}} writes poems.")
        page.fill(
            "textarea[name=greeting]", "你好，{{user}}！" if zh else "Hello, {{user}}!"
        )
        page.locator("form.stacked button[type=submit].primary").click()
        expect(page.locator("#character-name")).to_have_text(name)
        journey.check("character")
        page.get_by_role("button", name=words["start_chat"]).click()
        page.wait_for_url(CONVERSATION_URL)
        greeting = page.locator("li.msg-assistant").first
        # The greeting opens the chat, its {{user}} filled in.
        expect(greeting.locator(".msg-body")).to_contain_text("你好" if zh else "Hello")
        expect(greeting.locator(".msg-body")).not_to_contain_text("{{user}}")
        expect(greeting.locator(".msg-character")).to_have_text(name)

        # A video: queued, then moving on without a reload.
        page.goto("/videos/")
        expect(page.locator("h1")).to_have_text(words["videos"])
        page.fill(
            "textarea[name=prompt]",
            "海上漂流的灯笼 [[sim:ready_after=1]]"
            if zh
            else "A lantern at sea [[sim:ready_after=1]]",
        )
        page.click("button[type=submit].primary")
        job = page.locator(".job").first
        expect(job).to_be_visible()
        page.evaluate("window.__sameDocument = true")
        expect(job).to_have_attribute("data-status", re.compile("processing|succeeded"))
        expect(job.locator("[data-role=status]")).to_have_text(
            re.compile(f"{words['generating']}|{words['done']}")
        )
        assert page.evaluate("window.__sameDocument") is True
        journey.check("videos")

        # Log out: the sign-in page, in the same language.
        page.goto("/")
        journey.open_drawer()
        page.get_by_role("button", name=words["log_out"]).click()
        page.wait_for_url("**/accounts/login/**")
        expect(page.locator("button[type=submit]")).to_have_text(words["log_in"])
        expect(page.locator(f"[data-username='{username}']")).to_have_count(0)
        journey.check("log-in")

        problems = {where: found for where, found in journey.found.items() if found}
        assert not problems, problems
    finally:
        context.close()
