"""What a user can do with video jobs: create, cancel, retry, delete.

Each is a plain function over rows; views call them. New work reaches the worker only
through `transaction.on_commit(...)`, so a task never looks for a row that is not
committed yet. The worker side (submit, poll, collect, sweep) is in lifecycle.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from glmweb.images import NormalisedImage
from media_jobs import collect
from media_jobs.models import VideoJob, new_request_id

Status = VideoJob.Status


class JobLimitError(Exception):
    """The user already has VIDEO_MAX_IN_FLIGHT jobs queued or running."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"{limit} video jobs in flight")

    def user_message(self) -> str:
        """Return the reason in the active language."""
        return ngettext(
            "You already have %(limit)d video being made. Wait for it to finish, or "
            "cancel it, before starting another.",
            "You already have %(limit)d videos being made. Wait for one to finish, "
            "or cancel one, before starting another.",
            self.limit,
        ) % {"limit": self.limit}


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """What the form collected (already validated against the catalog)."""

    prompt: str
    model: str
    quality: str
    with_audio: bool
    size: str
    fps: int
    duration: int | None = None
    image: NormalisedImage | None = None


class JobRateError(JobLimitError):
    """The user already started VIDEO_MAX_PER_HOUR jobs in the last hour."""

    def user_message(self) -> str:
        """Return the reason in the active language."""
        return ngettext(
            "You can start %(limit)d video per hour. Please try again later.",
            "You can start %(limit)d videos per hour. Please try again later.",
            self.limit,
        ) % {"limit": self.limit}


def _lock_owner_and_check_limit(owner: User) -> None:
    """Inside a transaction: serialise this user's job starts, then check the limit."""
    # Locking the user row makes two simultaneous starts by one user queue up here
    # (PostgreSQL); SQLite's IMMEDIATE transactions already serialise writers.
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    limit = settings.VIDEO_MAX_IN_FLIGHT
    in_flight = VideoJob.objects.filter(
        owner=owner, status__in=VideoJob.IN_FLIGHT
    ).count()
    if in_flight >= limit:
        raise JobLimitError(limit)
    # A per-hour cap as well: the in-flight limit alone lets a user start (and cancel)
    # jobs, each billed by the platform, as fast as they can click.
    per_hour = settings.VIDEO_MAX_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    if VideoJob.objects.filter(owner=owner, created_at__gte=since).count() >= per_hour:
        raise JobRateError(per_hour)


def _enqueue_submit(job: VideoJob) -> None:
    from media_jobs import tasks  # tasks imports lifecycle, which imports models

    job_id, request_id = job.pk, job.request_id
    transaction.on_commit(
        lambda: tasks.submit_video_job.delay(job_id, request_id), robust=True
    )


def _waiting_overdue_at() -> datetime:
    # A queued job whose submit task has not run by then is picked up by the sweep.
    return timezone.now() + timedelta(seconds=settings.VIDEO_SWEEP_GRACE_SECONDS)


def create_video_job(owner: User, request: VideoRequest) -> VideoJob:
    """Queue a new job for `owner` and enqueue its submission once committed.

    Raises JobLimitError when the owner already has VIDEO_MAX_IN_FLIGHT jobs in
    flight, and JobRateError (a JobLimitError) when they started VIDEO_MAX_PER_HOUR
    in the last hour.
    """
    with transaction.atomic():
        _lock_owner_and_check_limit(owner)
        job = VideoJob(
            owner=owner,
            prompt=request.prompt,
            model=request.model,
            quality=request.quality,
            with_audio=request.with_audio,
            size=request.size,
            fps=request.fps,
            duration=request.duration,
            overdue_at=_waiting_overdue_at(),
        )
        if request.image is not None:
            job.source_image.save(
                f"source{request.image.extension}",
                ContentFile(request.image.data),
                save=False,
            )
        job.save()
        _enqueue_submit(job)
    return job


def cancel_video_job(job: VideoJob) -> bool:
    """Cancel `job` unless it already finished; return whether it was cancelled.

    The platform has no cancel call: a job it already accepted still runs (and is
    billed) there, but nothing of it is collected or shown any more.
    """
    now = timezone.now()
    return bool(
        VideoJob.objects.filter(pk=job.pk, status__in=VideoJob.IN_FLIGHT).update(
            status=Status.CANCELLED, cancelled_at=now, updated_at=now, overdue_at=None
        )
    )


def retry_video_job(job: VideoJob) -> bool:
    """Queue a failed or cancelled `job` again as a new attempt (new request id).

    Returns False when the job is not failed/cancelled any more. Raises JobLimitError
    like create_video_job().
    """
    with transaction.atomic():
        _lock_owner_and_check_limit(job.owner)
        now = timezone.now()
        request_id = new_request_id()
        rows = VideoJob.objects.filter(
            pk=job.pk, status__in=(Status.FAILED, Status.CANCELLED)
        ).update(
            status=Status.QUEUED,
            request_id=request_id,
            upstream_task_id="",
            poll_seq=0,
            deadline_at=None,
            submit_after=None,
            overdue_at=_waiting_overdue_at(),
            error_code="",
            error_message="",
            submitted_at=None,
            processing_at=None,
            failed_at=None,
            cancelled_at=None,
            queued_at=now,
            updated_at=now,
        )
        if not rows:
            return False
        job.refresh_from_db()
        _enqueue_submit(job)
    return True


def delete_video_job(job: VideoJob) -> None:
    """Delete `job` and its files. An unfinished job is cancelled first, so no worker
    writes its files after they were removed."""
    cancel_video_job(job)
    names = [job.video.name, job.cover.name, job.source_image.name]
    job.delete()
    transaction.on_commit(lambda: collect.delete_files(*names))
