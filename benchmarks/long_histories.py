"""Long histories: a 2,000-message conversation, a sidebar of 5,000 conversations and
search over 5,000 × 50 messages, on SQLite (docs/performance.md).

Builds the data set in a throwaway GLMWEB_VAR_DIR (benchmarks/long_histories_data.py),
times the search server-side (list_conversations, median of --runs, with the FTS5 index
and with it switched off), then starts the whole app (`manage.py runapp`, as
`make run`) and times in Chromium (Playwright): the conversation's first message drawn
and its interactive point (history drawn, composer enabled), an older page after
scrolling up, and the sidebar's first page and all its rows loaded by scrolling.

    .venv/bin/python benchmarks/long_histories.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GLMWEB_CHROMIUM", "/usr/bin/chromium")
USERNAME, PASSWORD = "bench", "bench-password-1234"
QUERIES = ("quokka", "sqlite", "数据", "message 123", "zz")


def _env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ZHIPUAI_API_KEY", "ZHIPUAI_BASE_URL", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(GLMWEB_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PAGE_PROBE = """() => {
  const drawn = document.querySelectorAll('#message-list li.msg').length;
  return drawn > 0 ? performance.now() : false;
}"""
READY_PROBE = """() => {
  const app = document.getElementById('chat-app');
  const box = document.getElementById('composer-input');
  return app && app.dataset.state === 'ready' && box && !box.disabled
    && document.querySelectorAll('#message-list li.msg').length >= 100
    ? performance.now() : false;
}"""
LONG_TASKS = """() => new Promise((done) => {
  const tasks = [];
  new PerformanceObserver((list) => tasks.push(...list.getEntries()))
    .observe({type: 'longtask', buffered: true});
  setTimeout(() => done(tasks.map((t) => t.duration)), 50);
})"""


def _browser(base_url: str, conversation_id: str, runs: int, rows: int) -> dict:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[float]] = {
        "first_message_ms": [],
        "interactive_ms": [],
        "blocking_ms": [],
        "older_page_ms": [],
        "sidebar_first_ms": [],
        "sidebar_all_ms": [],
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(
            base_url=base_url, viewport={"width": 1280, "height": 800}
        )
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("input[name=username]", USERNAME)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for _ in range(runs + 1):  # the first run warms the caches; not counted
            page.goto(f"/c/{conversation_id}/", wait_until="commit")
            first = page.wait_for_function(PAGE_PROBE, polling="raf").json_value()
            ready = page.wait_for_function(READY_PROBE, polling="raf").json_value()
            sidebar = page.wait_for_function(
                "() => document.querySelectorAll('#conv-list li.conv-item').length"
                " >= 100 ? performance.now() : false",
                polling="raf",
            ).json_value()
            blocking = sum(max(0, d - 50) for d in page.evaluate(LONG_TASKS))
            older = page.evaluate(
                """() => new Promise((done) => {
                  const list = document.getElementById('message-list');
                  const started = performance.now();
                  new MutationObserver((_, observer) => {
                    if (list.querySelectorAll('li.msg').length >= 200) {
                      observer.disconnect(); done(performance.now() - started);
                    }
                  }).observe(list, {childList: true});
                  document.getElementById('messages').scrollTop = 0;
                })"""
            )
            started = time.perf_counter()
            deadline = started + 120
            while page.locator("#conv-list li.conv-item").count() < rows:
                if time.perf_counter() > deadline:
                    raise TimeoutError("the sidebar did not load every row")
                page.eval_on_selector(
                    ".conv-nav", "el => { el.scrollTop = el.scrollHeight; }"
                )
                page.wait_for_timeout(20)
            all_rows = (time.perf_counter() - started) * 1000
            print("run", first, ready, older, sidebar, all_rows, file=sys.stderr)
            if _ == 0:
                continue
            results["first_message_ms"].append(first)
            results["interactive_ms"].append(ready)
            results["blocking_ms"].append(blocking)
            results["older_page_ms"].append(older)
            results["sidebar_first_ms"].append(sidebar)
            results["sidebar_all_ms"].append(all_rows)
        browser.close()
    return {
        key: {
            "median": round(statistics.median(v), 1),
            "min": round(min(v), 1),
            "max": round(max(v), 1),
        }
        for key, v in results.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--per-conversation", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="long-histories-") as tmp:
        var_dir = Path(tmp)
        env = _env(var_dir)
        started = time.perf_counter()
        made = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    "benchmarks/long_histories_data.py",
                    f"--username={USERNAME}",
                    f"--password={PASSWORD}",
                    f"--messages={args.messages}",
                    f"--conversations={args.conversations - 1}",
                    f"--per-conversation={args.per_conversation}",
                ],
                cwd=BASE_DIR,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.splitlines()[-1]
        )
        made["build_seconds"] = round(time.perf_counter() - started, 1)
        print("built", made, file=sys.stderr, flush=True)
        searched = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    "benchmarks/long_histories_search.py",
                    str(args.runs * 4),
                    json.dumps(QUERIES),
                    USERNAME,
                ],
                cwd=BASE_DIR,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.splitlines()[-1]
        )
        print("searched", searched, file=sys.stderr, flush=True)
        port = _free_port()
        app = subprocess.Popen(
            [sys.executable, "manage.py", "runapp", "--port", str(port)],
            cwd=BASE_DIR,
            env={**env, "GLMWEB_SIMULATOR_PORT": str(_free_port())},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            assert app.stdout is not None
            for line in app.stdout:
                if "GLM Web is running at" in line:
                    break
            browser = _browser(
                f"http://127.0.0.1:{port}",
                made["conversation_id"],
                args.runs,
                args.conversations,
            )
        finally:
            app.send_signal(signal.SIGINT)
            try:
                app.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(app.pid, signal.SIGKILL)
    print(json.dumps({"data": made, "server": searched, "browser": browser}, indent=1))


if __name__ == "__main__":
    main()
