"""The chat page in a real browser: a reply streams in, survives a reload, stops, fails
visibly with a retry, and hostile Markdown stays inert.

Replies come from the live app's simulator at its default rate; a slow or long reply
is asked for with a `[[sim:tokens=N,rate=R]]` directive in the message
(docs/simulator.md).
"""

from __future__ import annotations

import re
import time
import uuid

from django.conf import settings
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_up

CONVERSATION_URL = re.compile(r".*/c/[0-9a-f-]{36}/$")


def send_message(page: Page, text: str) -> None:
    """Type `text` in the composer and press Enter (as a person would)."""
    box = page.locator("#composer-input")
    box.fill(text)
    box.press("Enter")


def last_reply(page: Page):
    return page.locator("li.msg-assistant").last


def reply_text(page: Page) -> str:
    return last_reply(page).locator(".msg-body").inner_text()


def wait_for_reply_text(page: Page, min_chars: int, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.locator("li.msg-assistant").count():
            text = reply_text(page)
            if len(text) >= min_chars:
                return text
        page.wait_for_timeout(50)
    raise AssertionError(f"no reply of {min_chars}+ characters within {timeout} s")


def new_chat(page: Page) -> None:
    """Sign up and land on the empty chat page."""
    sign_up(page)
    page.goto("/")
    expect(page.locator("#composer-input")).to_be_editable()


def test_chat_reply_streams_token_by_token_and_ends(page):
    new_chat(page)
    send_message(page, "Hello GLM [[sim:tokens=60,rate=20]]")

    page.wait_for_url(CONVERSATION_URL)
    expect(page.locator("li.msg-user .msg-body")).to_have_text(
        "Hello GLM [[sim:tokens=60,rate=20]]"
    )
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online")
    # Sample the reply while it streams: its text must grow in many steps.
    lengths = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if page.locator("li.msg-assistant").count():
            lengths.append(len(reply_text(page)))
            if last_reply(page).get_attribute("data-status") != "streaming":
                break
        page.wait_for_timeout(100)
    growth = [b for a, b in zip(lengths, lengths[1:], strict=False) if b > a]
    assert len(growth) >= 5, lengths
    assert lengths == sorted(lengths), lengths

    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    expect(last_reply(page).locator(".msg-body")).to_contain_text(
        "It comes from the GLM simulator standing in for"
    )
    # While streaming the composer offered Stop; now it offers Send again.
    expect(page.locator("#send-button")).to_be_visible()
    expect(page.locator("#stop-button")).to_be_hidden()
    expect(last_reply(page).locator(".msg-usage")).to_contain_text(
        "60 completion tokens"
    )
    # The first exchange names the conversation (conversation.updated).
    expect(page.locator("#chat-title")).not_to_have_text(re.compile("^New chat$"))
    expect(page.locator("#chat-title")).not_to_have_text(re.compile("^Loading"))
    # The draft was acknowledged, so nothing is left in the box or in storage.
    assert page.locator("#composer-input").input_value() == ""
    stored = page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('glmweb:pending:'))"
    )
    assert stored == []


def test_reload_mid_reply_continues_to_the_end(page):
    new_chat(page)
    send_message(page, "Tell me a long story [[sim:tokens=150,rate=25]]")
    page.wait_for_url(CONVERSATION_URL)
    before = wait_for_reply_text(page, 60)

    page.reload()

    # The snapshot brings back everything written so far, then streaming goes on.
    expect(last_reply(page)).to_have_attribute("data-status", "streaming")
    after_reload = wait_for_reply_text(page, len(before))
    assert after_reload.startswith(before[:50])
    page.wait_for_timeout(600)
    assert len(reply_text(page)) > len(after_reload), "the reply stopped growing"
    expect(last_reply(page)).to_have_attribute(
        "data-status", "complete", timeout=20_000
    )
    final = reply_text(page)
    assert final.startswith(before[:50])
    expect(last_reply(page).locator(".msg-usage")).to_contain_text(
        "150 completion tokens"
    )
    # One user message and one answer: the reload resent nothing twice.
    expect(page.locator("li.msg-user")).to_have_count(1)
    expect(page.locator("li.msg-assistant")).to_have_count(1)


def test_stop_keeps_the_text_and_says_it_stopped(page):
    new_chat(page)
    send_message(page, "Count slowly [[sim:tokens=300,rate=20]]")
    page.wait_for_url(CONVERSATION_URL)
    wait_for_reply_text(page, 30)
    expect(page.locator("#stop-button")).to_be_visible()

    page.click("#stop-button")

    expect(last_reply(page)).to_have_attribute("data-status", "stopped")
    expect(last_reply(page).locator(".msg-status")).to_contain_text("Stopped")
    kept = reply_text(page)
    assert len(kept) >= 30
    page.wait_for_timeout(700)
    assert reply_text(page) == kept, "the reply kept growing after Stop"
    expect(page.locator("#send-button")).to_be_visible()
    # The stopped text is what the server saved.
    page.reload()
    expect(last_reply(page)).to_have_attribute("data-status", "stopped")
    assert reply_text(page) == kept


HOSTILE = [
    '<img src=x onerror="window.__pwned=1">',
    "[click me](javascript:window.__pwned=2)",
    '<a href="javascript:alert(3)" onclick="alert(4)">x</a>',
    '<p style="color:red" onmouseover="alert(5)">styled</p>',
    "<script>window.__pwned=6</script>",
    '<iframe src="javascript:alert(7)"></iframe>',
    "<svg><animate onbegin=alert(8) attributeName=x /></svg>",
    "![pixel](data:image/png;base64,iVBORw0KGgo=)",
    '<form action="https://e.example"><button>go</button></form>',
    "<style>body{display:none}</style>",
]

# A longer payload, rendered by the page's own renderer as a reply frame would be.
HOSTILE_DOCUMENT = "\n\n".join(
    HOSTILE
    + [
        '<a href="JaVaScRiPt:alert(9)">mixed case</a>',
        '<a href="&#106;avascript:alert(10)">entity</a>',
        "[data](data:text/html,<script>alert(11)</script>)",
        '<details open ontoggle="alert(12)"><summary>x</summary>y</details>',
        '<div class="toast msg-user" id="composer">borrowed classes</div>',
        '```html\n<img src=x onerror="alert(14)">\n```',
        '<object data="javascript:alert(15)"></object><embed src=x onload=alert(16)>',
        # Last: its unclosed <style> swallows everything after it.
        '<math><mtext><table><mglyph><style><img src=x onerror="alert(13)">',
    ]
)

INERT_CHECK = """
(root) => {
  const problems = [];
  for (const node of root.querySelectorAll("*")) {
    for (const attr of node.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim().toLowerCase();
      if (name.startsWith("on")) problems.push(`${node.tagName} ${name}`);
      if (name === "style") problems.push(`${node.tagName} style`);
      if ((name === "href" || name === "src" || name === "action" ||
           name === "data" || name === "formaction") &&
          (value.startsWith("javascript:") || value.startsWith("data:") ||
           value.startsWith("vbscript:")))
        problems.push(`${node.tagName} ${name}=${value}`);
    }
    if (["SCRIPT", "IFRAME", "STYLE", "FORM", "INPUT", "OBJECT", "EMBED", "svg",
         "math", "IMG", "LINK", "META"].includes(node.tagName))
      problems.push(`element ${node.tagName}`);
    if (node.tagName === "A" && node.getAttribute("href") &&
        node.getAttribute("rel") !== "noopener noreferrer")
      problems.push(`link without rel: ${node.outerHTML}`);
    if (node.id) problems.push(`id ${node.id}`);
  }
  return problems;
}
"""


def test_hostile_markdown_is_rendered_inert(page):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    new_chat(page)

    # Each payload goes in as the user's text and comes back quoted in the reply (the
    # simulator quotes the message), so both renderings are exercised, while streaming
    # and after.
    for number, payload in enumerate(HOSTILE, start=1):
        send_message(page, payload)
        expect(page.locator("li.msg-assistant")).to_have_count(number)
        expect(last_reply(page)).not_to_have_attribute("data-status", "streaming")
        problems = last_reply(page).evaluate(INERT_CHECK)
        assert problems == [], (payload, problems)

    messages = page.locator("#message-list")
    # The user's text is shown as typed, markup and all.
    expect(page.locator("li.msg-user .msg-body").nth(4)).to_have_text(HOSTILE[4])
    assert messages.evaluate(INERT_CHECK) == []

    # The whole list of vectors through the page's renderer at once.
    problems = page.evaluate(
        """async (text) => {
          const render = await import("/static/chat/render.js");
          const holder = document.createElement("div");
          holder.className = "md";
          document.getElementById("message-list").append(holder);
          holder.replaceChildren(render.renderMarkdown(text, {final: false}));
          holder.replaceChildren(render.renderMarkdown(text, {final: true}));
          return null;
        }""",
        HOSTILE_DOCUMENT,
    )
    page.wait_for_timeout(300)  # a late onerror/onload would have fired by now
    assert messages.evaluate(INERT_CHECK) == []
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    # Code blocks keep hostile text as text, highlighted, with a copy button.
    code = page.locator("#message-list .code-block code").last
    expect(code).to_contain_text('<img src=x onerror="alert(14)">')
    expect(page.locator("#message-list .code-block .copy-code").last).to_be_visible()


def test_api_failure_is_shown_inline_with_a_retry_that_works(page):
    # The client resends a 429 ZHIPUAI_MAX_RETRIES times; fail one request more than
    # that, so the reply fails once and the user's retry gets through.
    fails = settings.ZHIPUAI_MAX_RETRIES + 1
    text = (
        f"Busy test {uuid.uuid4().hex[:8]} "
        f"[[sim:status=429,retry_after=0,fail_times={fails}]]"
    )
    new_chat(page)
    send_message(page, text)

    expect(last_reply(page)).to_have_attribute("data-status", "error")
    status = last_reply(page).locator(".msg-status")
    expect(status).to_contain_text("Too many requests")
    retry = status.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    # What the user typed is still there.
    expect(page.locator("li.msg-user .msg-body")).to_have_text(text)

    retry.click()

    expect(page.locator("li.msg-assistant")).to_have_count(1)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    expect(last_reply(page).locator(".msg-body")).to_contain_text(
        "Here is a sample answer"
    )


def test_api_failure_without_retry_is_explained_in_chinese(zh_page):
    new_chat(zh_page)
    send_message(zh_page, "你好 [[sim:status=401]]")

    expect(last_reply(zh_page)).to_have_attribute("data-status", "error")
    status = last_reply(zh_page).locator(".msg-status")
    expect(status).to_contain_text("认证失败")
    # A bad key is not fixed by trying again, so no retry is offered.
    expect(status.locator(".retry-button")).to_have_count(0)


# Cut the socket around the first message.send: before it leaves ("drop") or right
# after it left, before the server's answer arrives ("after").
CUT_SOCKET = """(mode) => {
  const send = WebSocket.prototype.send;
  let done = false;
  WebSocket.prototype.send = function (data) {
    if (!done && String(data).includes('"message.send"')) {
      done = true;
      if (mode === "after") send.call(this, data);
      this.close();
      return;
    }
    return send.call(this, data);
  };
}"""


def test_lost_connection_reconnects_and_resends_exactly_once(page):
    new_chat(page)
    send_message(page, "opening line")
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    states: list[str] = []
    page.expose_function("reportState", lambda state: states.append(state))
    page.evaluate(
        """() => new MutationObserver(() => window.reportState(
             document.getElementById("conn-status").dataset.state))
           .observe(document.getElementById("conn-status"), {attributes: true})"""
    )

    for number, mode in enumerate(("drop", "after"), start=2):
        page.evaluate(CUT_SOCKET, mode)
        send_message(page, f"sent while the line breaks ({mode})")
        expect(page.locator("li.msg-assistant")).to_have_count(number)
        expect(last_reply(page)).to_have_attribute("data-status", "complete")
        expect(page.locator("#conn-status")).to_have_attribute("data-state", "online")
        expect(page.locator("li.msg-user").last).to_have_text(
            re.compile(rf"sent while the line breaks \({mode}\)")
        )
    assert "reconnecting" in states, states
    # Each message exactly once, on the page and on the server.
    expect(page.locator("li.msg-user")).to_have_count(3)
    page.reload()
    expect(page.locator("li.msg-user")).to_have_count(3)
    expect(page.locator("li.msg-assistant")).to_have_count(3)
    stored = page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('glmweb:pending:'))"
    )
    assert stored == []


def test_auto_scroll_follows_only_a_reader_at_the_bottom(page):
    page.set_viewport_size({"width": 900, "height": 500})
    new_chat(page)
    send_message(page, "A long one [[sim:tokens=700,rate=70]]")
    page.wait_for_url(CONVERSATION_URL)
    scroller = page.locator("#messages")
    at_bottom = "el => el.scrollHeight - el.scrollTop - el.clientHeight < 60"
    page.wait_for_function(
        "() => { const el = document.getElementById('messages');"
        " return el.scrollHeight > el.clientHeight + 200; }"
    )
    assert scroller.evaluate(at_bottom), "the view did not follow the reply"

    scroller.evaluate("el => el.scrollTo(0, 0)")
    page.wait_for_timeout(800)
    expect(last_reply(page)).to_have_attribute("data-status", "streaming")
    assert scroller.evaluate("el => el.scrollTop") == 0, "the view jumped down"
    expect(page.locator("#jump-bottom")).to_be_visible()

    page.click("#jump-bottom")
    assert scroller.evaluate(at_bottom)
    page.wait_for_timeout(500)
    assert scroller.evaluate(at_bottom), "the view stopped following"
