"""A task for the broker tests only.

A worker started with `-I tests.glmweb.worker_probe` runs it, so a test can see a
message cross the broker and come back as a file."""

from __future__ import annotations

from pathlib import Path

from celery import shared_task


@shared_task(name="tests.worker_probe.touch")
def touch(path: str, text: str) -> None:
    Path(path).write_text(text)
