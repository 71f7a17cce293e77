"""The simulator's own endpoints: the request log tests assert on, and the command
that starts it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx

from tests.conftest import BASE_DIR, free_port


def test_request_log_records_method_path_headers_and_body(simulator):
    payload = {"model": "glm-4", "messages": [{"role": "user", "content": "log me"}]}
    before = time.time()

    httpx.post(
        simulator.base_url + "chat/completions",
        json=payload,
        headers={
            "Authorization": "Bearer test-id.test-secret",
            "X-Source-Channel": "tests",
        },
        timeout=10,
    )

    entry = simulator.last_request("/chat/completions")
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/paas/v4/chat/completions"
    assert entry["headers"]["authorization"] == "Bearer test-id.test-secret"
    assert entry["headers"]["x-source-channel"] == "tests"
    assert entry["json"] == payload
    assert before <= entry["received_at"] <= time.time()


def test_request_log_keeps_refused_and_non_json_requests(simulator):
    httpx.post(simulator.base_url + "videos/generations", content=b"{oops", timeout=10)

    entry = simulator.last_request("/videos/generations")
    assert entry["json"] is None and "authorization" not in entry["headers"]


def test_request_log_clears_on_delete_and_keeps_the_newest_500(simulator):
    assert httpx.delete(f"{simulator.root}/_sim/requests").status_code == 200
    assert simulator.requests() == []

    with httpx.Client(base_url=simulator.base_url) as client:
        for number in range(505):
            client.post("async-result-nowhere", json={"n": number})

    entries = simulator.requests()
    assert len(entries) == 500
    assert [e["json"]["n"] for e in (entries[0], entries[-1])] == [5, 504]


def test_runsimulator_prints_one_ready_line_once_it_serves():
    # Start-up speed is not asserted here (it failed under a loaded machine's CPU, not
    # a bug); what is: the line comes only once the server answers.
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "runsimulator",
            "--port",
            str(port),
            "--token-rate",
            "0",
        ],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = process.stdout.readline()
        health = httpx.get(f"http://127.0.0.1:{port}/_sim/health", timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert line == f"GLM simulator on http://127.0.0.1:{port}/api/paas/v4/\n"
    assert health.json() == {"status": "ok"}
    # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly.
    assert process.returncode in (0, -signal.SIGTERM)
