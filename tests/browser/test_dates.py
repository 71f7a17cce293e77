"""Dates and relative times in the language the user chose: the sidebar's and the
thread's "now" and the page's date helpers (static/chat/dates.js) speak zh-Hans or
English."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_chat_streaming import (
    CONVERSATION_URL,
    last_reply,
    new_chat,
    send_message,
)

# What the page's own dates.js module returns for moments relative to the browser's
# clock and for a fixed day (noon UTC: the same date in every time zone the runner
# may have).
FORMAT_SAMPLES = """async () => {
  const loaded = performance.getEntriesByType("resource").map((entry) => entry.name);
  const module = loaded.find((name) => /\\/chat\\/dates[.\\w]*\\.js$/.test(name));
  const dates = await import(module);
  const ago = (seconds) => new Date(Date.now() - seconds * 1000).toISOString();
  return {
    minutes: dates.relativeTime(ago(5 * 60)),
    yesterday: dates.relativeTime(ago(26 * 3600)),
    days: dates.relativeTime(ago(3 * 86400)),
    old: dates.relativeTime("2026-01-16T12:00:00Z"),
  };
}"""


EXPECTED = {
    "zh-hans": {
        "now": "现在",
        "minutes": "5分钟前",
        "yesterday": "昨天",
        "days": "3天前",
        "old": "2026年1月16日",
    },
    "en": {
        "now": "now",
        "minutes": "5 minutes ago",
        "yesterday": "yesterday",
        "days": "3 days ago",
        "old": "Jan 16, 2026",
    },
}
# The tooltip's whole date and time, as each language writes it.
FULL_DATE = {
    "zh-hans": re.compile(r"^20\d\d年\d"),
    "en": re.compile(r"^[A-Z][a-z]{2} \d"),
}


def choose_language(page: Page, language: str) -> None:
    # The form posts and the page comes back (its modules run before "load").
    with page.expect_navigation():
        page.select_option("body > .topbar select[name=language]", language)
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_times_speak_the_chosen_language(page: Page):
    new_chat(page)  # an English browser
    choose_language(page, "zh-hans")
    send_message(page, "what time is it")
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")

    for language in ("zh-hans", "en"):
        if language == "en":
            conversation = page.url  # the page's form goes back to where it loaded
            choose_language(page, "en")
            page.goto(conversation)
        expected = EXPECTED[language]
        for stamp in (
            page.locator("#conv-list li.conv-item .conv-time").first,
            page.locator("li.msg-user .msg-time"),
        ):
            expect(stamp).to_have_text(expected["now"])
            expect(stamp).to_have_attribute("title", FULL_DATE[language])
        samples = page.evaluate(FORMAT_SAMPLES)
        assert samples == {key: expected[key] for key in samples}, language
