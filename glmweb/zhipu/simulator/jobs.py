"""Async tasks answered by `GET async-result/{id}`: video jobs and async chats.

State lives in memory: a restarted simulator forgets its tasks, and polling a forgotten
id gets the unknown-task answer, as an expired id would upstream.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import platform_error
from .http import Request, Send, send_json

Kind = Literal["video", "chat"]


@dataclass
class Job:
    id: str
    kind: Kind
    model: str
    request_id: str
    ready_at: float  # time.monotonic() when the job stops PROCESSING
    failed: bool = False
    media_seconds: float = 0.0  # how long its video file takes to download
    result: dict[str, Any] = field(default_factory=dict)  # chat: the completion

    @property
    def done(self) -> bool:
        return time.monotonic() >= self.ready_at


class JobStore:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def add(self, job: Job) -> None:
        self._jobs[job.id] = job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)


def media_urls(root: str, job_id: str) -> dict[str, str]:
    return {
        "url": f"{root}/_sim/media/{job_id}.mp4",
        "cover_image_url": f"{root}/_sim/media/{job_id}.png",
    }


def job_status(job: Job, root: str) -> dict[str, Any]:
    """Return the async-result body for `job` as it stands now."""
    status = {"id": job.id, "model": job.model, "request_id": job.request_id}
    if not job.done:
        return {**status, "task_status": "PROCESSING"}
    if job.failed:
        return {**status, "task_status": "FAIL"}
    if job.kind == "video":
        return {
            **status,
            "task_status": "SUCCESS",
            "video_result": [media_urls(root, job.id)],
        }
    return {**job.result, **status, "task_status": "SUCCESS"}


async def get_async_result(request: Request, send: Send, store: JobStore) -> None:
    """GET async-result/{id}. An unknown id is a bad parameter: 400 with code 1214."""
    job_id = request.path.removeprefix("async-result/")
    job = store.get(job_id)
    if job is None:
        raise platform_error("1214", field="id", detail=f"unknown task {job_id!r}")
    await send_json(send, job_status(job, request.root))
