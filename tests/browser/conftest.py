"""Browser tests: the whole app (`manage.py runapp`: Daphne, a Celery worker, the GLM
simulator) in its own folder, driven by Playwright in Debian's Chromium.

Playwright's own browser download does not work on these machines, so the tests launch
the system Chromium (`GLMWEB_CHROMIUM`, default /usr/bin/chromium). Without it they
skip with a message, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port, start_runapp

BASE_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("GLMWEB_CHROMIUM", "/usr/bin/chromium")
# Chromium's background services dial out; this machine's closed network refuses them.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "correct-horse-battery-staple-42"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# Loaded from the app itself, as the pages' CSP (script-src 'self') allows.
AXE = "/static/vendor/axe-core-4.10.3/axe.min.js"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveApp:
    base_url: str  # http://127.0.0.1:PORT (no trailing slash)
    sim_root: str  # http://127.0.0.1:SIM_PORT
    var_dir: Path
    process: subprocess.Popen
    output: list[str]

    def url(self, path: str) -> str:
        return self.base_url + path


def _pump(stream, lines: queue.Queue, output: list[str]) -> None:
    for line in iter(stream.readline, ""):
        output.append(line)
        lines.put(line)
    lines.put(None)


@contextmanager
def running_app(var_dir: Path) -> Iterator[LiveApp]:
    """Run the whole app as `make run` does, on free ports, with its database in
    `var_dir`; stop it on leaving (docs/screenshots/take.py uses this too)."""
    web_port, sim_port = free_port(), free_port()
    process = start_runapp(var_dir, web_port, sim_port)
    lines: queue.Queue = queue.Queue()
    output: list[str] = []
    threading.Thread(
        target=_pump, args=(process.stdout, lines, output), daemon=True
    ).start()
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    "the app did not start within 120 s:\n" + "".join(output)
                ) from None
            if line is None:
                raise AssertionError("runapp exited:\n" + "".join(output))
            if "GLM Web is running at" in line:
                break
        yield LiveApp(
            base_url=f"http://127.0.0.1:{web_port}",
            sim_root=f"http://127.0.0.1:{sim_port}",
            var_dir=var_dir,
            process=process,
            output=output,
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# Package scope: the app and the browser stop once the browser tests are done, so
# Playwright's event loop is gone before the async tests elsewhere run.
@pytest.fixture(scope="package")
def live_app(tmp_path_factory) -> Iterator[LiveApp]:
    """Run the whole app as `make run` does, on free ports, with its own database."""
    with running_app(tmp_path_factory.mktemp("live-app")) as app:
        yield app


@pytest.fixture(scope="package")
def chromium():
    """Launch Debian's Chromium once per session through Playwright."""
    if not os.path.exists(CHROMIUM):
        message = (
            f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install "
            "chromium; or set GLMWEB_CHROMIUM)"
        )
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + " -- CI=true, so this is a failure")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_app):
    """A fresh browser context (no cookies) with English pages, per test."""
    context = chromium.new_context(
        locale="en-US",
        base_url=live_app.base_url,
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def zh_page(chromium, live_app):
    """A fresh browser context asking for Simplified Chinese, phone-sized."""
    context = chromium.new_context(
        locale="zh-CN",
        base_url=live_app.base_url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_up(page, username: str | None = None) -> str:
    """Create an account through the sign-up form; return its username."""
    username = username or f"user-{uuid.uuid4().hex[:10]}"
    page.goto("/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(f"[data-username='{username}']", state="attached")
    return username


def new_context(chromium, live_app, *, locale: str, viewport: dict, dark: bool):
    """A fresh browser context (no cookies): a touch phone when `viewport` is PHONE,
    the system colour scheme dark or light."""
    phone = viewport == PHONE
    context = chromium.new_context(
        locale=locale,
        base_url=live_app.base_url,
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        color_scheme="dark" if dark else "light",
    )
    context.set_default_timeout(15_000)
    return context


def axe_violations(page) -> list[str]:
    """Run axe-core on the page; return its serious and critical findings."""
    page.add_script_tag(url=AXE)
    results = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']}))"
        ".violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -- "
        + "; ".join(n["html"][:120] for n in v["nodes"][:3])
        for v in results
        if v["impact"] in {"serious", "critical"}
    ]
