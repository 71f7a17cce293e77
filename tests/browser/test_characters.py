"""Characters in a real browser: import a PNG card, start a chat, see the greeting,
the character's name and avatar, chat on CharGLM, then switch the same conversation
to a GLM-4 model and carry on (the character then travels as a system prompt)."""

from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_chat_streaming import CONVERSATION_URL, last_reply, send_message
from tests.chat.conftest import png_card

CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Seraphina",
        "description": "{{char}} guards the forest glade.",
        "personality": "gentle",
        "scenario": "",
        "first_mes": "*Seraphina smiles.* You're awake, {{user}}.",
        "mes_example": "",
        "creator_notes": "",
        "system_prompt": "",
        "post_history_instructions": "",
        "alternate_greetings": ["The fire crackles."],
        "tags": ["fantasy"],
        "creator": "",
        "character_version": "",
        "extensions": {},
    },
}


def _chat_calls(live_app) -> list[dict]:
    with urllib.request.urlopen(f"{live_app.sim_root}/_sim/requests", timeout=5) as r:
        entries = json.loads(r.read())
    return [e["json"] for e in entries if e["path"].endswith("chat/completions")]


def test_import_a_card_chat_with_it_then_switch_to_glm4(page, live_app, tmp_path):
    sign_up(page)
    card = tmp_path / "seraphina.png"
    card.write_bytes(png_card(CARD, size=(96, 128)))
    page.goto("/characters/import/")
    page.set_input_files("input[name=card]", str(card))
    page.click("#import-card")
    page.wait_for_url(re.compile(r".*/characters/[0-9a-f-]{36}/$"))
    expect(page.locator("#character-name")).to_have_text("Seraphina")

    page.click("#start-chat")
    page.wait_for_url(CONVERSATION_URL)
    greeting = page.locator("li.msg-assistant").first
    # The greeting is an assistant message: sanitised Markdown, like every reply.
    expect(greeting.locator(".msg-body")).to_have_text(
        "Seraphina smiles. You're awake, User."
    )
    expect(greeting.locator(".msg-body em")).to_have_text("Seraphina smiles.")
    expect(greeting.locator(".msg-character")).to_have_text("Seraphina")
    avatar = greeting.locator("img.msg-avatar")
    expect(avatar).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('img.msg-avatar');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    expect(greeting.locator(".greeting-position")).to_have_text("Greeting 1 of 2")
    # The switcher shows the alternate greeting, and back.
    greeting.get_by_role("button", name="Next greeting").click()
    expect(greeting.locator(".msg-body")).to_have_text("The fire crackles.")
    expect(greeting.locator(".greeting-position")).to_have_text("Greeting 2 of 2")
    greeting.get_by_role("button", name="Previous greeting").click()
    expect(greeting.locator(".greeting-position")).to_have_text("Greeting 1 of 2")
    expect(greeting.locator(".msg-body em")).to_have_text("Seraphina smiles.")
    expect(page.locator("#model-picker")).to_have_value("charglm-4")

    send_message(page, "Where am I?")
    expect(page.locator("li.msg-assistant")).to_have_count(2)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    # Once the story has begun the greeting stays: no switcher any more.
    expect(page.locator(".greeting-position")).to_have_count(0)
    expect(last_reply(page).locator(".msg-character")).to_have_text("Seraphina")
    charglm = _chat_calls(live_app)[-1]
    assert charglm["model"] == "charglm-4"
    assert charglm["meta"]["bot_name"] == "Seraphina"
    assert charglm["meta"]["bot_info"].startswith("Seraphina guards the forest glade.")

    page.select_option("#model-picker", "glm-4-flash")
    expect(page.locator("#settings-status")).to_have_text("Saved")
    send_message(page, "Tell me about the glade.")
    expect(page.locator("li.msg-assistant")).to_have_count(3)
    expect(last_reply(page)).to_have_attribute("data-status", "complete")
    glm4 = _chat_calls(live_app)[-1]
    assert glm4["model"] == "glm-4-flash" and "meta" not in glm4
    assert glm4["messages"][0]["role"] == "system"
    assert glm4["messages"][0]["content"].startswith(
        "You are Seraphina, in a role-play with User."
    )
    assert [m["content"] for m in glm4["messages"][1:4]] == [
        "*Seraphina smiles.* You're awake, User.",
        "Where am I?",
        charglm_reply_text(page),
    ]

    # A plain new chat offers no role-play model.
    page.goto("/")
    codes = page.locator("#model-picker option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    assert "glm-4-flash" in codes and "charglm-4" not in codes


def charglm_reply_text(page) -> str:
    return page.locator("li.msg-assistant").nth(1).locator(".msg-body").inner_text()
