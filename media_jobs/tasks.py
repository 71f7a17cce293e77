"""Celery tasks of video jobs: each loads nothing itself, calls the lifecycle function
of the same name, and enqueues what it returns (with its countdown). Retries and
rescheduling live here; the state changes live in lifecycle.py.

Messages carry ids only (JSON): the job id, the attempt's request id and, for polls,
the poll number, so a message from an earlier attempt or a superseded poll is a no-op.
Scheduling uses `apply_async(countdown=...)`: the wait is the broker's, never a sleep
that holds a worker.
"""

from __future__ import annotations

from celery import shared_task

from media_jobs import lifecycle


def enqueue(step: lifecycle.Next | None) -> None:
    """Send the task `step` describes, after its countdown."""
    if step is None:
        return
    if step.task == "submit":
        submit_video_job.apply_async(
            (step.job_id, step.request_id), countdown=step.countdown
        )
    else:
        poll_video_job.apply_async(
            (step.job_id, step.request_id, step.seq), countdown=step.countdown
        )


@shared_task(name="media_jobs.tasks.submit_video_job")
def submit_video_job(job_id: int, request_id: str) -> None:
    """Submit one attempt of a job (lifecycle.submit_video_job)."""
    enqueue(lifecycle.submit_video_job(job_id, request_id))


@shared_task(name="media_jobs.tasks.poll_video_job")
def poll_video_job(job_id: int, request_id: str, seq: int) -> None:
    """Poll a processing job once (lifecycle.poll_video_job)."""
    enqueue(lifecycle.poll_video_job(job_id, request_id, seq))


@shared_task(name="media_jobs.tasks.sweep_video_jobs")
def sweep_video_jobs() -> None:
    """Re-enqueue the steps of overdue jobs (celery beat runs this periodically)."""
    for step in lifecycle.sweep_video_jobs():
        enqueue(step)
