"""The chat page's composer, message actions, settings and long-conversation notice in a
real browser: Enter/Shift+Enter/IME, drafts kept across reloads, regenerate, edit and
resend, copy, presets and sampling settings reaching the model, the model picker's
capabilities, the summary notice, and the exports."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid

from playwright.sync_api import expect

from tests.browser.test_chat_streaming import (
    CONVERSATION_URL,
    last_reply,
    new_chat,
    send_message,
)


def sim_chat_requests(live_app, text: str) -> list[dict]:
    """Return the simulator's chat requests whose last message is `text`."""
    with urllib.request.urlopen(live_app.sim_root + "/_sim/requests") as response:
        requests = json.load(response)
    found = []
    for request in requests:
        body = request.get("json") or {}
        messages = body.get("messages") or []
        if request["path"].endswith("chat/completions") and messages:
            content = messages[-1].get("content")
            if content == text:
                found.append(body)
    return found


def test_composer_enter_shift_enter_ime_and_draft(page):
    new_chat(page)
    box = page.locator("#composer-input")

    box.click()
    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    assert box.input_value() == "line one\nline two"

    # Enter while an input method is composing (pinyin, say) only ends the
    # composition: whether the browser flags the key event or only the composition
    # events tell (Safari), nothing is sent.
    box.dispatch_event("compositionstart")
    box.dispatch_event("keydown", {"key": "Enter"})
    box.dispatch_event("compositionend")
    box.dispatch_event("keydown", {"key": "Enter", "isComposing": True})
    box.dispatch_event("keydown", {"key": "Enter", "keyCode": 229})
    page.wait_for_timeout(300)
    expect(page.locator("li.msg")).to_have_count(0)
    assert box.input_value() == "line one\nline two"

    # What is typed survives a reload (the draft lives in localStorage).
    page.reload()
    expect(box).to_have_value("line one\nline two")

    # Too long: refused in the page with the limit, and the text stays.
    limit = page.evaluate(
        "JSON.parse(document.getElementById('chat-data').textContent)"
        ".limits.max_message_chars"
    )
    box.fill("x" * (limit + 1))
    box.press("Enter")
    expect(page.locator("#composer-notice")).to_contain_text(str(limit))
    expect(page.locator("li.msg")).to_have_count(0)
    assert len(box.input_value()) == limit + 1

    box.fill("line one\nline two")
    box.press("Enter")
    page.wait_for_url(CONVERSATION_URL)
    expect(page.locator("li.msg-user .msg-body")).to_have_text("line one\nline two")
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    expect(box).to_have_value("")
    page.reload()
    expect(box).to_have_value("")


def test_regenerate_edit_and_copy(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    new_chat(page)
    send_message(page, "first question, with `code` please")
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    first_id = last_reply(page).get_attribute("data-id")

    # Copy a whole message (its Markdown source).
    last_reply(page).get_by_role("button", name="Copy", exact=True).click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(
        'Here is a sample answer to "first question, with `code` please"'
    )

    last_reply(page).get_by_role("button", name="Regenerate").click()
    expect(page.locator("li.msg-assistant")).to_have_count(1)
    expect(last_reply(page)).not_to_have_attribute("data-id", first_id)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")

    user = page.locator("li.msg-user")
    user.get_by_role("button", name="Edit").click()
    editor = user.locator("textarea.edit-input")
    expect(editor).to_have_value("first question, with `code` please")
    editor.fill("second question")
    user.get_by_role("button", name="Save and send").click()

    expect(page.locator("li.msg-user")).to_have_count(1)
    expect(page.locator("li.msg-user .msg-body")).to_have_text("second question")
    expect(page.locator("li.msg-assistant")).to_have_count(1)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    expect(last_reply(page).locator(".msg-body")).to_contain_text("second question")
    page.reload()
    expect(page.locator("li.msg-user .msg-body")).to_have_text("second question")
    expect(page.locator("li.msg-assistant")).to_have_count(1)

    # A fenced code block gets highlighting and its own copy button.
    send_message(page, "code ```python\nprint('hi')\n``` [[sim:tokens=12]]")
    expect(last_reply(page)).to_have_attribute("data-status", "complete")


def test_settings_presets_and_model_reach_the_model(page, live_app):
    marker = uuid.uuid4().hex[:10]
    new_chat(page)
    page.get_by_role("button", name="Settings", exact=True).click()
    panel = page.locator("#settings-panel")
    expect(panel).to_be_visible()

    # A built-in preset fills the system prompt; the user's own can be saved.
    page.select_option("#preset-picker", label="Coding assistant")
    prompt = page.locator("#opt-system-prompt")
    expect(prompt).to_have_value(re.compile("programming assistant"))
    page.once("dialog", lambda dialog: dialog.accept(f"Mine {marker}"))
    page.click("#preset-save")
    expect(page.locator("#settings-status")).to_contain_text(f"Mine {marker}")
    expect(page.locator("#preset-picker option", has_text=marker)).to_have_count(1)

    # Out of range is refused in the page, with the range.
    page.fill("#opt-temperature", "1.5")
    expect(page.locator("#settings-status")).to_contain_text("between 0 and 1")
    page.fill("#opt-temperature", "0.3")
    page.fill("#opt-max-tokens", "200")

    # The model's capabilities decide which switches exist.
    page.select_option("#model-picker", "glm-4-long")
    expect(page.locator("#web-search-toggle")).to_be_hidden()
    expect(page.locator("#thinking-toggle")).to_be_hidden()
    page.select_option("#model-picker", "glm-4.5-flash")
    expect(page.locator("#thinking-toggle")).to_be_visible()
    expect(page.locator("#model-caps")).to_contain_text("thinking")
    page.check("#opt-thinking")

    send_message(page, f"settings check {marker}")
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    # The thinking model's reasoning is there, folded away once the answer came.
    reasoning = last_reply(page).locator("details.reasoning")
    expect(reasoning).to_be_visible()
    reasoning.locator("summary").click()
    expect(reasoning.locator(".reasoning-body")).not_to_be_empty()

    sent = sim_chat_requests(live_app, f"settings check {marker}")[-1]
    assert sent["model"] == "glm-4.5-flash"
    assert sent["temperature"] == 0.3
    assert sent["max_tokens"] == 200
    assert sent["messages"][0]["role"] == "system"
    assert "programming assistant" in sent["messages"][0]["content"]

    # Settings changed later are saved on the conversation (PATCH) and come back.
    page.fill("#opt-temperature", "0.7")
    expect(page.locator("#settings-status")).to_have_text("Saved")
    page.reload()
    page.get_by_role("button", name="Settings", exact=True).click()
    expect(page.locator("#opt-temperature")).to_have_value("0.7")
    expect(page.locator("#model-picker")).to_have_value("glm-4.5-flash")
    expect(page.locator("#opt-thinking")).to_be_checked()


def test_summary_notice_and_exports(page):
    new_chat(page)
    # Enough rounds that older ones are summarised (GLMWEB_SUMMARY_EVERY_ROUNDS=4 plus
    # the kept ones, by default).
    for number in range(1, 9):
        send_message(page, f"round {number} [[sim:tokens=4,rate=0]]")
        expect(page.locator("li.msg-assistant")).to_have_count(number)
        expect(last_reply(page)).to_have_attribute("data-status", "complete")
        if page.locator("li.summary-notice").count():
            break
    notice = page.locator("li.summary-notice").last
    expect(notice).to_contain_text("summarised")
    notice.locator("summary").click()
    expect(notice.locator(".summary-body")).not_to_be_empty()
    page.reload()
    expect(page.locator("li.summary-notice")).not_to_have_count(0)

    page.click("#export-menu summary")
    for link, expected in (("#export-md", "round 1"), ("#export-json", '"round 1')):
        href = page.get_attribute(link, "href")
        response = page.request.get(href)
        assert response.ok
        assert expected in response.text()


def test_web_search_sources_are_listed_as_safe_links(page):
    new_chat(page)
    page.select_option("#model-picker", "glm-4-flash")
    expect(page.locator("#web-search-toggle")).to_be_visible()
    page.check("#opt-web-search")
    send_message(page, "what is new in Hangzhou")
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    links = last_reply(page).locator(".sources a")
    expect(links.first).to_be_visible()
    assert links.count() >= 1
    for index in range(links.count()):
        link = links.nth(index)
        assert link.get_attribute("href").startswith(("http://", "https://"))
        assert link.get_attribute("rel") == "noopener noreferrer"
        assert link.get_attribute("target") == "_blank"


def test_text_typed_before_the_page_script_runs_is_kept(page):
    new_chat(page)
    # Hold the page's script back, as a slow connection would, and type meanwhile.
    release = {"go": False}

    def slow_script(route):
        while not release["go"]:
            page.wait_for_timeout(50)
        route.continue_()

    page.route("**/static/chat/chat.js", slow_script)
    page.goto("/", wait_until="commit")
    box = page.locator("#composer-input")
    box.fill("typed while the page was loading")
    release["go"] = True
    # Once the script runs, the early text is the draft (before the fix, the script
    # put the empty saved draft over it).
    page.wait_for_function(
        "() => localStorage.getItem('glmweb:draft:new') === "
        "'typed while the page was loading'"
    )
    assert box.input_value() == "typed while the page was loading"
    page.reload()
    expect(box).to_have_value("typed while the page was loading")  # kept as a draft


def test_a_message_sent_before_the_history_arrives_keeps_the_conversation_model(page):
    new_chat(page)
    page.locator("#model-picker").select_option("glm-4.6")
    send_message(page, "first [[sim:tokens=3,rate=0]]")
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")

    # Reload with the server's frames held back, as on a slow link, and send at once:
    # the picker still shows the default model, not yet the conversation's.
    held: list = []
    release = {"go": False}

    def slow_socket(ws):
        server = ws.connect_to_server()

        def from_server(message):
            if release["go"]:
                ws.send(message)
            else:
                held.append(message)

        server.on_message(from_server)
        ws.on_message(server.send)
        release["flush"] = lambda: [ws.send(m) for m in held]

    page.route_web_socket(re.compile(r".*/ws/.*"), slow_socket)
    page.reload()
    expect(page.locator("#model-picker")).not_to_have_value("glm-4.6")
    send_message(page, "second [[sim:tokens=3,rate=0]]")
    page.wait_for_function("() => !document.getElementById('composer-input').value")
    release["go"] = True
    release["flush"]()
    expect(page.locator("li.msg-assistant")).to_have_count(2)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    expect(last_reply(page).locator(".msg-model")).to_have_text("glm-4.6")
    expect(page.locator("#model-picker")).to_have_value("glm-4.6")
