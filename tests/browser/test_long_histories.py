"""Long histories in a real browser: a conversation opens on its newest page and
loads older messages as the reader scrolls up (the view staying put), and the sidebar
loads more conversations as it is scrolled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import sign_up

BASE_DIR = Path(__file__).resolve().parents[2]


def seed(live_app, username: str, **counts: int) -> dict:
    """Fill the running app's database for `username` (long_histories_data.py)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["GLMWEB_VAR_DIR"] = str(live_app.var_dir)
    flags = [f"--{key.replace('_', '-')}={value}" for key, value in counts.items()]
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/long_histories_data.py",
            f"--username={username}",
            *flags,
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_older_messages_load_on_scroll_up_and_the_sidebar_loads_more(page, live_app):
    username = sign_up(page)
    made = seed(live_app, username, messages=250, conversations=130, per_conversation=2)
    first_number = made["other_messages"]  # the long conversation's first message
    page.goto(f"/c/{made['conversation_id']}/")
    messages = page.locator("#message-list li.msg")
    expect(messages).to_have_count(100)
    expect(messages.last).to_contain_text(f"message {first_number + 249}:")
    expect(messages.first).to_contain_text(f"message {first_number + 150}:")

    # Scrolled to the top: the page before arrives above, and what was at the top
    # stays where the reader saw it.
    top_before = messages.first.get_attribute("data-id")
    where = """(el, index) => {
      const item = el.querySelectorAll('#message-list li.msg')[index];
      return item.getBoundingClientRect().top - el.getBoundingClientRect().top;
    }"""
    seen_at = page.eval_on_selector(
        "#messages", f"el => {{ el.scrollTop = 0; return ({where})(el, 0); }}"
    )
    expect(messages).to_have_count(200)
    expect(messages.nth(100)).to_have_attribute("data-id", str(top_before))
    kept = page.eval_on_selector("#messages", f"el => ({where})(el, 100)")
    assert abs(kept - seen_at) <= 2, (seen_at, kept)
    page.eval_on_selector("#messages", "el => { el.scrollTop = 0; }")
    expect(messages).to_have_count(250)
    expect(messages.first).to_contain_text(f"message {first_number}:")
    texts = messages.all_inner_texts()
    numbers = [int(t.split("message ", 1)[1].split(":", 1)[0]) for t in texts]
    assert numbers == list(range(first_number, first_number + 250))

    # The sidebar: 100 first, the rest as its end is scrolled into view.
    items = page.locator("#conv-list li.conv-item")
    expect(items).to_have_count(100)
    page.eval_on_selector(".conv-nav", "el => { el.scrollTop = el.scrollHeight; }")
    expect(items).to_have_count(131)
