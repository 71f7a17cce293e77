"""An agent conversation in a real browser: the Agents page, starting a conversation
with an agent, a reply with a tool call shown as a fold (name, input, outputs as
text), and the same after a reload."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_up
from tests.browser.test_chat_streaming import CONVERSATION_URL, last_reply, send_message


def test_an_agent_conversation_shows_its_tool_call(page: Page):
    sign_up(page)
    page.goto("/")
    page.get_by_role("link", name="Agents").first.click()
    card = page.locator(".assistant-card", has_text="智谱清言")
    expect(card).to_contain_text("web_browser")
    card.get_by_role("button", name="Start a conversation").click()
    page.wait_for_url(CONVERSATION_URL)
    expect(page.locator("#composer-input")).to_be_editable()

    send_message(page, "Find <b>cats</b> [[sim:tool=web_browser]]")
    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=15000)
    call = reply.locator("details.tool-call")
    expect(call).to_have_count(1)
    expect(call.locator("summary")).to_have_text("Web search")
    expect(call.locator(".tool-call-input")).to_be_hidden()  # folded until opened
    call.locator("summary").click()
    # The tool's input is text: the user's markup is shown, not made.
    expect(call.locator(".tool-call-input")).to_have_text("Find <b>cats</b>")
    assert call.locator("b").count() == 0
    link = call.locator(".tool-output a")
    expect(link).to_have_attribute("href", "https://example.com/simulated")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(call.locator(".tool-output-text")).to_have_text("A simulated search result.")
    expect(reply.locator(".msg-body")).not_to_be_empty()

    page.reload()
    reply = last_reply(page)
    expect(reply.locator("details.tool-call summary")).to_have_text("Web search")

    # An agent cannot go on: a length-cut agent answer says so but offers no Continue.
    send_message(page, "Cut short [[sim:finish=length]]")
    expect(page.locator("li.msg-assistant")).to_have_count(2)
    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=15000)
    expect(reply.locator(".msg-ending")).to_be_visible()
    expect(reply.locator(".continue-button")).to_have_count(0)
