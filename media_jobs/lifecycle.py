"""The worker side of a video job: submit, poll, collect, and the sweep.

    queued --submit--> submitted --platform accepts--> processing --poll...--> succeeded
       ^                   |  429/503/5xx answered: back to queued, retried later
       |                   |  400 & co: failed with the platform's message
       |                   |  reply lost after the request went out: failed,
       |                   |      "submission_unconfirmed" (never resubmitted by us)
    retry (user)       processing past VIDEO_DEADLINE_SECONDS: failed ("deadline")

Every step claims the row with a conditional UPDATE before it acts, so a task that is
delivered twice, retried, or arrives after the sweep re-enqueued it does nothing:

- submit claims `status=queued, request_id=R` -> submitted *before* calling the
  platform, and sends R as the request id. Only one worker can win that claim, so one
  attempt makes at most one upstream task.
- poll N claims `status=processing, poll_seq=N` -> N+1 before it schedules poll N+1 (or
  collects), so at most one poll chain exists per job.
- a collection moves `overdue_at` on while the file's bytes keep arriving, so the
  sweep leaves a slow download alone and retries only one that stopped.
- every state the job waits in has `overdue_at`: when the sweep may assume the task
  that should move it on is gone (its worker was killed; the filesystem broker loses a
  killed worker's reserved messages) and enqueue it again.

The functions return what to enqueue next (a `Next`) instead of enqueuing, so the
Celery tasks (tasks.py) own all scheduling and these can be called directly in tests.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from glmweb import zhipu
from media_jobs import collect
from media_jobs.models import VideoJob

logger = logging.getLogger(__name__)

Status = VideoJob.Status

# Our own error codes (the others are the client's error kinds, e.g. "bad_request").
UNCONFIRMED = "submission_unconfirmed"
DEADLINE = "deadline"
UPSTREAM_FAILED = "upstream_failed"


@dataclass(frozen=True, slots=True)
class Next:
    """A task to enqueue: `submit_video_job(job_id, request_id)` or
    `poll_video_job(job_id, request_id, seq)`, after `countdown` seconds."""

    task: Literal["submit", "poll"]
    job_id: int
    request_id: str
    countdown: float = 0.0
    seq: int = 0


def poll_countdown(seq: int) -> float:
    """Return the wait before poll number `seq`: FIRST x 2^seq, capped at MAX."""
    first = settings.VIDEO_POLL_FIRST_SECONDS
    return min(first * 2 ** min(seq, 30), settings.VIDEO_POLL_MAX_SECONDS)


def submit_backoff(attempts: int, retry_after: float | None) -> float:
    """Return the wait before submission number `attempts + 1` after a refusal."""
    first = settings.VIDEO_SUBMIT_BACKOFF_SECONDS
    delay = min(
        first * 2 ** max(0, min(attempts - 1, 30)),
        settings.VIDEO_SUBMIT_BACKOFF_MAX_SECONDS,
    )
    # The server's own Retry-After wins when it asks for longer.
    return max(delay, retry_after or 0.0)


def _grace() -> timedelta:
    return timedelta(seconds=settings.VIDEO_SWEEP_GRACE_SECONDS)


def _submit_window() -> timedelta:
    """How long a submission may take before the sweep calls its outcome unknown."""
    return (
        timedelta(seconds=settings.ZHIPUAI_TIMEOUT + settings.ZHIPUAI_CONNECT_TIMEOUT)
        + _grace()
    )


def _collect_window() -> timedelta:
    """How long collecting (two downloads) may take before the sweep retries it."""
    per_file = settings.VIDEO_DOWNLOAD_TIMEOUT + settings.ZHIPUAI_CONNECT_TIMEOUT
    return timedelta(seconds=2 * per_file) + _grace()


def _video_options(job: VideoJob) -> dict[str, Any]:
    options: dict[str, Any] = {
        "quality": job.quality,
        "with_audio": job.with_audio,
        "size": job.size,
        "fps": job.fps,
        "request_id": job.request_id,
        "user_id": f"glmweb-user-{job.owner_id}",
    }
    if job.duration:
        options["duration"] = job.duration
    if job.source_image:
        with job.source_image.open("rb") as image:
            data = image.read()
        kind = "png" if data.startswith(b"\x89PNG") else "jpeg"
        options["image_url"] = (
            f"data:image/{kind};base64,{base64.b64encode(data).decode('ascii')}"
        )
    return options


def _error_text(exc: zhipu.GLMError) -> str:
    """Return the error's own words for `error_message`: the platform's message with
    its business code, else the technical account; never the kind (that is the row's
    `error_code`, and repeating it read "bad_media: bad_media: ...")."""
    text = exc.message or str(exc)
    return f"[{exc.code}] {text}" if exc.code else text


def _fail(
    job: VideoJob,
    from_statuses: tuple[str, ...],
    code: str,
    message: str,
    **match: Any,
) -> bool:
    """Move `job` to failed if it is still in one of `from_statuses`; return whether
    it moved."""
    now = timezone.now()
    moved = VideoJob.objects.filter(
        pk=job.pk, request_id=job.request_id, status__in=from_statuses, **match
    ).update(
        status=Status.FAILED,
        failed_at=now,
        updated_at=now,
        overdue_at=None,
        error_code=code,
        error_message=message[:2000],
    )
    if moved:
        logger.info("video job %s failed: %s %s", job.pk, code, message[:200])
    return bool(moved)


# --- submit --------------------------------------------------------------------------


def submit_video_job(job_id: int, request_id: str) -> Next | None:
    """Send job `job_id`'s attempt `request_id` to the platform, at most once.

    Claims the row (queued -> submitted) first; a job that is no longer queued with
    this request id (a duplicate delivery, a cancel, a retry) is left alone. Returns
    the first poll on acceptance, a later submit after an answered 429/503/5xx, and
    None otherwise. Saves every outcome on the row; raises nothing for upstream errors.
    """
    now = timezone.now()
    ready = VideoJob.objects.filter(
        Q(submit_after__isnull=True) | Q(submit_after__lte=now),
        pk=job_id,
        request_id=request_id,
        status=Status.QUEUED,
    )
    job = ready.first()
    if job is None:
        return None
    options = _video_options(job)  # reads the source image before anything is sent
    claimed = ready.update(
        status=Status.SUBMITTED,
        submitted_at=now,
        updated_at=now,
        attempts=F("attempts") + 1,
        overdue_at=now + _submit_window(),
    )
    if not claimed:
        return None
    job.attempts += 1
    try:
        task = zhipu.submit_video(
            job.prompt or None,
            model=job.model,
            # Our own policy below decides about resending, never the client's.
            max_retries=0,
            **options,
        )
    except zhipu.GLMError as exc:
        return _submission_failed(job, exc)
    return _accepted(job, task.task_id)


def _accepted(job: VideoJob, task_id: str) -> Next | None:
    now = timezone.now()
    countdown = poll_countdown(0)
    fields: dict[str, Any] = {
        "status": Status.PROCESSING,
        "upstream_task_id": task_id,
        "processing_at": now,
        "updated_at": now,
        "deadline_at": now + timedelta(seconds=settings.VIDEO_DEADLINE_SECONDS),
        "poll_seq": 0,
        "overdue_at": now + timedelta(seconds=countdown) + _grace(),
        "error_code": "",
        "error_message": "",
    }
    rows = VideoJob.objects.filter(
        pk=job.pk, request_id=job.request_id, status=Status.SUBMITTED
    ).update(**fields)
    if not rows:
        # The sweep gave up on this submission while it was still in flight: the task
        # exists after all, so follow it rather than leave a billed video behind.
        rows = VideoJob.objects.filter(
            pk=job.pk,
            request_id=job.request_id,
            status=Status.FAILED,
            error_code=UNCONFIRMED,
        ).update(**fields, failed_at=None)
    if not rows:
        # Cancelled or deleted meanwhile; keep the task id for the record.
        VideoJob.objects.filter(pk=job.pk, request_id=job.request_id).update(
            upstream_task_id=task_id
        )
        return None
    logger.info("video job %s accepted as task %s", job.pk, task_id)
    return Next("poll", job.pk, job.request_id, countdown, seq=0)


def _submission_failed(job: VideoJob, exc: zhipu.GLMError) -> Next | None:
    answered_error = exc.status is not None and exc.status >= 400
    if (answered_error and exc.transient) or not exc.request_sent:
        # The platform answered "not now" (429/503/5xx) or never got the request:
        # no task exists, so sending again with the same request id is safe.
        return _back_off(job, exc)
    if answered_error:
        _fail(job, (Status.SUBMITTED,), exc.kind, _error_text(exc))
        return None
    # The request went out and the reply was lost (read timeout, dropped connection,
    # unreadable 2xx). The platform may have a task we will never see, and billed it;
    # it has no lookup by request id, so the user decides whether to submit again.
    _fail(job, (Status.SUBMITTED,), UNCONFIRMED, str(exc))
    return None


def _back_off(job: VideoJob, exc: zhipu.GLMError) -> Next | None:
    if job.attempts >= settings.VIDEO_SUBMIT_MAX_ATTEMPTS:
        _fail(job, (Status.SUBMITTED,), exc.kind, _error_text(exc))
        return None
    delay = submit_backoff(job.attempts, exc.retry_after)
    now = timezone.now()
    rows = VideoJob.objects.filter(
        pk=job.pk, request_id=job.request_id, status=Status.SUBMITTED
    ).update(
        status=Status.QUEUED,
        updated_at=now,
        submit_after=now + timedelta(seconds=delay),
        overdue_at=now + timedelta(seconds=delay) + _grace(),
        error_code=exc.kind,
        error_message=_error_text(exc)[:2000],
    )
    if not rows:
        return None
    logger.info(
        "video job %s: %s on attempt %s, next in %.1f s",
        job.pk,
        exc.kind,
        job.attempts,
        delay,
    )
    return Next("submit", job.pk, job.request_id, delay)


# --- poll and collect ----------------------------------------------------------------


def poll_video_job(job_id: int, request_id: str, seq: int) -> Next | None:
    """Ask the platform about job `job_id` once, as poll number `seq`.

    A job that is not processing with this request id and poll number is left alone
    (stale task). Past its deadline the job fails; still processing, the next poll is
    returned (a longer countdown each time); on success the video and cover are copied
    into storage and the job succeeds; on failure it fails with the platform's reason.
    """
    job = VideoJob.objects.filter(
        pk=job_id, request_id=request_id, status=Status.PROCESSING, poll_seq=seq
    ).first()
    if job is None:
        return None
    now = timezone.now()
    if job.deadline_at is not None and now >= job.deadline_at:
        minutes = settings.VIDEO_DEADLINE_SECONDS / 60
        _fail(
            job,
            (Status.PROCESSING,),
            DEADLINE,
            f"still processing after {minutes:g} minutes",
            poll_seq=seq,
        )
        return None
    try:
        result = zhipu.get_video_result(job.upstream_task_id, max_retries=0)
    except zhipu.GLMError as exc:
        if exc.transient:
            wait = max(poll_countdown(seq + 1), min(exc.retry_after or 0.0, 600.0))
            return _next_poll(job, seq, wait)
        _fail(job, (Status.PROCESSING,), exc.kind, _error_text(exc))
        return None
    if result.status is zhipu.VideoStatus.PROCESSING:
        return _next_poll(job, seq, poll_countdown(seq + 1))
    if result.status is zhipu.VideoStatus.FAIL:
        _fail(job, (Status.PROCESSING,), UPSTREAM_FAILED, result.error or "FAIL")
        return None
    return _collect(job, seq, result)


def _claim_poll(job: VideoJob, seq: int, overdue_at: datetime) -> bool:
    now = timezone.now()
    return bool(
        VideoJob.objects.filter(
            pk=job.pk,
            request_id=job.request_id,
            status=Status.PROCESSING,
            poll_seq=seq,
        ).update(poll_seq=seq + 1, overdue_at=overdue_at, updated_at=now)
    )


def _next_poll(job: VideoJob, seq: int, countdown: float) -> Next | None:
    overdue = timezone.now() + timedelta(seconds=countdown) + _grace()
    if not _claim_poll(job, seq, overdue):
        return None
    return Next("poll", job.pk, job.request_id, countdown, seq=seq + 1)


class _Superseded(Exception):
    """The job moved on (cancelled, or collected by another task) mid-download."""


def _claim_keeper(job: VideoJob, seq: int) -> Callable[[int], None]:
    """Return the download progress callback of collection `seq`: while bytes flow it
    moves the claim's `overdue_at` on (at most every quarter window, one UPDATE), and
    it raises _Superseded once the row is no longer this collection's."""
    window = _collect_window()
    every = window.total_seconds() / 4
    last = time.monotonic()

    def keep_claim(_size: int) -> None:
        nonlocal last
        if time.monotonic() - last < every:
            return
        last = time.monotonic()
        kept = _collecting(job, seq).update(overdue_at=timezone.now() + window)
        if not kept:
            raise _Superseded

    return keep_claim


def _collecting(job: VideoJob, seq: int) -> QuerySet[VideoJob]:
    """Return the job's row while the collection claimed by poll `seq` still owns it."""
    return VideoJob.objects.filter(
        pk=job.pk, request_id=job.request_id, status=Status.PROCESSING, poll_seq=seq + 1
    )


def _collect(job: VideoJob, seq: int, result: zhipu.VideoResult) -> Next | None:
    if not result.video_url:
        _fail(job, (Status.PROCESSING,), UPSTREAM_FAILED, "SUCCESS without a video URL")
        return None
    if not _claim_poll(job, seq, timezone.now() + _collect_window()):
        return None
    try:
        stored = collect.collect_media(
            job, result.video_url, result.cover_url, _claim_keeper(job, seq)
        )
    except _Superseded:
        logger.info("video job %s moved on while its files downloaded", job.pk)
        return None
    except zhipu.GLMError as exc:
        if exc.transient:
            # Poll again: the next answer carries fresh URLs if these expired.
            countdown = poll_countdown(seq + 1)
            VideoJob.objects.filter(
                pk=job.pk, request_id=job.request_id, poll_seq=seq + 1
            ).update(
                overdue_at=timezone.now() + timedelta(seconds=countdown) + _grace()
            )
            return Next("poll", job.pk, job.request_id, countdown, seq=seq + 1)
        _fail(job, (Status.PROCESSING,), exc.kind, _error_text(exc), poll_seq=seq + 1)
        return None
    now = timezone.now()
    rows = _collecting(job, seq).update(
        status=Status.SUCCEEDED,
        video=stored.video,
        cover=stored.cover,
        video_bytes=stored.video_bytes,
        succeeded_at=now,
        updated_at=now,
        overdue_at=None,
        error_code="",
        error_message="",
    )
    if not rows:
        # Cancelled, or another collection won meanwhile: these names are this
        # collection's own, so the winner's files are untouched.
        collect.delete_files(stored.video, stored.cover)
        return None
    logger.info("video job %s succeeded (%s bytes)", job.pk, stored.video_bytes)
    return None


# --- sweep ---------------------------------------------------------------------------


def sweep_video_jobs(limit: int = 200) -> list[Next]:
    """Return the tasks to enqueue again for jobs whose next step is overdue.

    A queued job gets its submit again and a processing job its current poll (both
    are no-ops if the original task turns up after all). A job stuck in submitted had
    its worker die during the request: whether the platform got it is unknown, so it
    fails as "submission_unconfirmed" and is not resubmitted. Each job is claimed by
    moving its `overdue_at` on, so two sweeps never enqueue the same step twice.
    """
    now = timezone.now()
    due = VideoJob.objects.filter(
        status__in=VideoJob.IN_FLIGHT, overdue_at__lt=now
    ).order_by("overdue_at")[:limit]
    again: list[Next] = []
    for job in due:
        if job.status == Status.SUBMITTED:
            _fail(
                job,
                (Status.SUBMITTED,),
                UNCONFIRMED,
                "the worker stopped while the submission was in flight",
                overdue_at=job.overdue_at,
            )
            continue
        claimed = VideoJob.objects.filter(
            pk=job.pk,
            request_id=job.request_id,
            status=job.status,
            poll_seq=job.poll_seq,
            overdue_at=job.overdue_at,
        ).update(overdue_at=now + _grace() + timedelta(seconds=poll_countdown(0)))
        if not claimed:
            continue
        logger.warning("video job %s overdue in %s; enqueued again", job.pk, job.status)
        if job.status == Status.QUEUED:
            again.append(Next("submit", job.pk, job.request_id))
        else:
            again.append(Next("poll", job.pk, job.request_id, seq=job.poll_seq))
    return again
