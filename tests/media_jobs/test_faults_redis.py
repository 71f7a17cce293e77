"""Redis, the Celery broker, restarted empty while a video job is processing: the
lost poll message is replaced by the sweep, the job succeeds with exactly one upstream
task, and a job queued after the restart runs too.

The worker usually reconnects by itself; sometimes kombu, restoring its unacked
messages while the connection is gone, raises AttributeError ('NoneType' object has no
attribute 'hostname', kombu's redis transport) and the worker exits. Deployments run
the worker under a supervisor that starts it again (docs/reliability.md); the test
does the same, so either way nothing may be lost.

Redis is a private server (tests/private_servers.py), never the machine's shared one."""

from __future__ import annotations

import subprocess

import pytest

from media_jobs import services
from media_jobs.models import VideoJob
from tests.media_jobs.conftest import submissions, wait_for_status
from tests.media_jobs.test_worker import FINISHED, MP4_BYTES, video_request
from tests.private_servers import private_redis  # noqa: F401

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

Status = VideoJob.Status


@pytest.fixture
def broker(private_redis) -> str:  # noqa: F811
    """The workers' broker: a private Redis this test restarts."""
    return private_redis.url


def test_redis_restarted_mid_job_the_job_and_the_next_one_succeed_once(
    workers,
    owner,
    simulator,
    private_redis,  # noqa: F811
):
    from django.core.files.storage import default_storage

    workers.start()
    job = services.create_video_job(
        owner, video_request("harbour at dusk [[sim:ready_after=3]]")
    )
    wait_for_status(job.pk, {Status.PROCESSING}, 30, workers)

    worker = workers.processes[0]
    private_redis.restart()  # every queued and scheduled message is gone
    try:
        worker.wait(timeout=3)
    except subprocess.TimeoutExpired:
        pass  # it reconnected
    else:
        workers.start()  # as the supervisor would

    after = services.create_video_job(
        owner, video_request("after the restart [[sim:ready_after=0]]")
    )
    job = wait_for_status(job.pk, FINISHED, 60, workers)
    after = wait_for_status(after.pk, FINISHED, 60, workers)
    for finished in (job, after):
        assert finished.status == Status.SUCCEEDED, (
            finished.error_code,
            finished.error_message,
        )
        assert len(submissions(simulator, finished.request_id)) == 1
        with default_storage.open(finished.video.name, "rb") as stored:
            assert stored.read() == MP4_BYTES
