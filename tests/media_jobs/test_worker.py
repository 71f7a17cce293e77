"""Video jobs through real Celery worker processes, the running simulator and the test
database: on the embedded filesystem broker and on real Redis."""

from __future__ import annotations

import re
import time
from itertools import pairwise

import pytest
from django.core.files.storage import default_storage

from glmweb.zhipu.simulator.video import MEDIA
from media_jobs import services
from media_jobs.models import VideoJob
from tests.media_jobs.conftest import submissions, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

Status = VideoJob.Status
FINISHED = {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED}
MP4_BYTES = MEDIA[".mp4"][1]


def video_request(prompt: str, **overrides) -> services.VideoRequest:
    fields = {
        "prompt": prompt,
        "model": "cogvideox-3",
        "quality": "speed",
        "with_audio": False,
        "size": "1920x1080",
        "fps": 30,
        **overrides,
    }
    return services.VideoRequest(**fields)


def test_job_goes_from_queued_to_succeeded_with_its_mp4_in_storage(
    workers, owner, simulator
):
    workers.start()
    job = services.create_video_job(owner, video_request("a paper boat in the rain"))
    assert job.status == Status.QUEUED

    job = wait_for_status(job.pk, FINISHED, 30, workers)

    assert job.status == Status.SUCCEEDED, (job.error_code, job.error_message)
    assert job.created_at <= job.submitted_at <= job.processing_at <= job.succeeded_at
    assert job.attempts == 1 and job.upstream_task_id
    assert job.overdue_at is None
    with default_storage.open(job.video.name, "rb") as stored:
        assert stored.read() == MP4_BYTES
    assert job.video_bytes == len(MP4_BYTES)
    assert default_storage.exists(job.cover.name) and job.cover.name.endswith(".png")
    sent = submissions(simulator, job.request_id)
    assert len(sent) == 1
    assert sent[0]["json"]["size"] == "1920x1080" and sent[0]["json"]["fps"] == 30


def held_polls(log: str) -> set[str]:
    """Return the ids of poll tasks a worker's log shows received but not finished."""
    received = set(re.findall(r"poll_video_job\[([0-9a-f-]+)\] received", log))
    finished = set(re.findall(r"poll_video_job\[([0-9a-f-]+)\] succeeded", log))
    return received - finished


def test_killed_worker_job_finishes_with_exactly_one_upstream_task(
    workers, owner, simulator
):
    first = workers.start()
    job = services.create_video_job(
        owner, video_request("slow lighthouse [[sim:ready_after=4]]")
    )
    wait_for_status(job.pk, {Status.PROCESSING}, 20, workers)
    # Kill it while it holds a scheduled poll (received, waiting for its countdown):
    # that message dies with it.
    deadline = time.monotonic() + 20
    while not held_polls(first.log_path.read_text()):
        assert time.monotonic() < deadline, workers.logs()
        time.sleep(0.05)
    workers.kill(first)
    assert VideoJob.objects.get(pk=job.pk).status == Status.PROCESSING

    second = workers.start()
    job = wait_for_status(job.pk, FINISHED, 40, workers)

    assert job.status == Status.SUCCEEDED, (job.error_code, job.error_message)
    assert len(submissions(simulator, job.request_id)) == 1
    # The dead worker's scheduled poll never came back; the sweep enqueued it again.
    assert "overdue in processing" in second.log_path.read_text()
    with default_storage.open(job.video.name, "rb") as stored:
        assert stored.read() == MP4_BYTES


def test_two_workers_never_submit_a_job_twice(workers, owner, stranger, simulator):
    from media_jobs import tasks

    workers.start()
    workers.start(beat=False)
    jobs = [
        services.create_video_job(
            user, video_request(f"race {n} [[sim:ready_after=1]]")
        )
        for n, user in enumerate([owner, stranger, owner, stranger, owner, stranger])
    ]
    # Redelivery and a racing sweep: every submit message arrives three times.
    for job in jobs:
        for _ in range(2):
            tasks.submit_video_job.delay(job.pk, job.request_id)

    finished = [wait_for_status(job.pk, FINISHED, 45, workers) for job in jobs]

    for job in finished:
        assert job.status == Status.SUCCEEDED, (job.error_code, job.error_message)
        assert job.attempts == 1
        assert len(submissions(simulator, job.request_id)) == 1
    assert len({job.upstream_task_id for job in finished}) == len(jobs)


@pytest.mark.parametrize("broker", ["filesystem"], indirect=True)
def test_rejected_limited_and_endless_jobs_end_as_designed(workers, owner, simulator):
    workers.start(VIDEO_DEADLINE_SECONDS="4")
    bad = services.create_video_job(owner, video_request("bad [[sim:status=400]]"))
    limited = services.create_video_job(
        owner, video_request("busy [[sim:status=429,fail_times=2]]")
    )
    endless = services.create_video_job(
        owner, video_request("forever [[sim:ready_after=600]]")
    )

    bad = wait_for_status(bad.pk, FINISHED, 20, workers)
    assert bad.status == Status.FAILED
    assert bad.error_code == "bad_request"
    # The platform's own message and code, as the simulator sent them.
    assert bad.error_message.startswith("[1210] ")
    assert len(submissions(simulator, bad.request_id)) == 1

    limited = wait_for_status(limited.pk, FINISHED, 30, workers)
    assert limited.status == Status.SUCCEEDED, limited.error_message
    assert limited.attempts == 3
    sent = submissions(simulator, limited.request_id)
    assert len(sent) == 3  # two 429s, then the one that made the task
    gaps = [b["received_at"] - a["received_at"] for a, b in pairwise(sent)]
    assert all(gap >= 0.45 for gap in gaps), gaps  # backed off, growing from 0.5 s

    endless = wait_for_status(endless.pk, FINISHED, 30, workers)
    assert endless.status == Status.FAILED
    assert endless.error_code == "deadline"
    assert len(submissions(simulator, endless.request_id)) == 1
