"""Answers in a real browser: citations linked to their sources with a preview,
rendered maths (and hostile LaTeX and search results kept inert), a length-cut answer
continued, and flipping between two versions of an answer."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_chat_streaming import last_reply, new_chat, send_message


def finished(page: Page) -> None:
    expect(last_reply(page)).not_to_have_attribute(
        "data-status", "streaming", timeout=15000
    )


def test_citations_link_to_sources_with_a_preview_and_maths_renders(page):
    new_chat(page)
    page.locator("#model-picker").select_option("glm-4.6")
    page.locator("#opt-web-search").check()
    send_message(
        page,
        "See [ref_1] and [ref_9]. Inline $E=mc^2$, display $$\\frac{a}{b}$$, "
        "money $5 and $10, bad $\\href{javascript:alert(1)}{click}$, "
        "code `$x$` [[sim:echo]]",
    )
    finished(page)
    reply = last_reply(page)
    cite = reply.locator(".msg-body sup.cite")
    expect(cite).to_have_count(1)
    link = cite.locator("a.cite-link")
    expect(link).to_have_text("1")
    message_id = reply.get_attribute("data-id")
    assert link.get_attribute("href") == f"#source-{message_id}-1"
    # The unmatched marker stays text.
    expect(reply.locator(".msg-body")).to_contain_text("[ref_9]")
    preview = cite.locator(".cite-preview")
    expect(preview).to_be_hidden()
    link.hover()
    expect(preview).to_be_visible()
    expect(preview).to_contain_text("Simulated result 1")
    expect(preview).to_contain_text("GLM Simulator · 2025-01-01")
    source = reply.locator(f"#source-{message_id}-1 a")
    expect(source).to_have_attribute("rel", "noopener noreferrer")

    body = reply.locator(".msg-body")
    expect(body.locator(".math-inline .katex")).to_have_count(2)
    expect(body.locator(".math-display .katex-display")).to_have_count(1)
    assert body.locator(".math-inline").first.get_attribute("data-tex") == "$E=mc^2$"
    # Money stays money, code stays code, \href draws as text with no link at all.
    expect(body).to_contain_text("money $5 and $10")
    expect(body.locator("code")).to_contain_text("$x$")
    assert body.locator("a[href^='javascript']").count() == 0
    assert body.locator(".katex a").count() == 0
    # KaTeX's own stylesheet and fonts load from the page's origin under its CSP.
    assert page.evaluate(
        "getComputedStyle(document.querySelector('.katex')).fontFamily"
    ).startswith("KaTeX_Main")


def test_hostile_search_results_stay_inert(page):
    new_chat(page)
    result = page.evaluate(
        """async () => {
          const { renderMarkdown } = await import("/static/chat/render.js");
          const { isWebLink } = await import("/static/chat/citations.js");
          const sources = [{
            refer: "ref_1",
            title: "<img src=x onerror=alert(1)><b>bold</b>",
            link: "javascript:alert(1)",
            media: "<script>alert(2)</script>",
            publish_date: "<i>today</i>",
          }];
          const box = document.createElement("div");
          box.append(renderMarkdown("Said [ref_1].", { sources, messageId: 7 }));
          return {
            html: box.innerHTML,
            preview: box.querySelector(".cite-preview").textContent,
            links: [...box.querySelectorAll("a")].map((a) => a.getAttribute("href")),
            webLinks: [
              "javascript:alert(1)", "data:text/html,x", " https://x", "https://ok.example/a",
            ].map(isWebLink),
          };
        }"""
    )
    assert "<img" not in result["html"] and "<b>" not in result["html"]
    assert "<script" not in result["html"] and "<i>" not in result["html"]
    assert "<b>bold</b>" in result["preview"]
    assert result["links"] == ["#source-7-1"]
    assert result["webLinks"] == [False, False, False, True]


def test_a_length_cut_answer_is_continued_in_place(page):
    new_chat(page)
    page.locator("#settings-toggle").click()
    page.locator("#opt-max-tokens").fill("5")
    page.locator("#opt-max-tokens").press("Tab")
    page.locator("#settings-close").click()
    send_message(page, "Tell me a long story")
    finished(page)
    reply = last_reply(page)
    expect(reply.locator(".msg-ending")).to_contain_text("length limit")
    before = reply.locator(".msg-body").inner_text()
    reply.locator(".continue-button").click()
    expect(reply.locator(".msg-body")).not_to_have_text(before, timeout=15000)
    finished(page)
    after = reply.locator(".msg-body").inner_text()
    assert after.startswith(before.strip()) and len(after) > len(before)
    expect(page.locator("li.msg-assistant")).to_have_count(1)
    page.reload()
    expect(last_reply(page).locator(".msg-body")).to_have_text(after)


def test_two_versions_of_an_answer_flip(page):
    new_chat(page)
    send_message(page, "Hello versions")
    finished(page)
    first_id = last_reply(page).get_attribute("data-id")
    last_reply(page).locator("button[data-action=regenerate]").click()
    expect(last_reply(page)).not_to_have_attribute("data-id", first_id)
    finished(page)
    second_id = last_reply(page).get_attribute("data-id")
    expect(last_reply(page).locator(".version-position")).to_have_text("2/2")
    expect(last_reply(page).locator("a.video-link")).to_have_attribute(
        "href", re.compile(r"^/videos/\?prompt=Here\+is\+a\+sample")
    )
    last_reply(page).locator(".version-previous").click()
    expect(last_reply(page)).to_have_attribute("data-id", first_id)
    expect(last_reply(page).locator(".version-position")).to_have_text("1/2")
    expect(page.locator("li.msg-assistant")).to_have_count(1)
    page.reload()
    expect(last_reply(page)).to_have_attribute("data-id", first_id)
    last_reply(page).locator(".version-next").click()
    expect(last_reply(page)).to_have_attribute("data-id", second_id)
