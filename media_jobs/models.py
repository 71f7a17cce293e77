"""VideoJob: one CogVideoX generation a user asked for, from the form to the stored MP4.

The row is the truth about a job. Workers move it through its states with conditional
UPDATEs (media_jobs/lifecycle.py), so a duplicate or late task changes nothing; no
network call happens here.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def source_image_path(job: VideoJob, filename: str) -> str:
    """Return where a job's normalised source image is stored (never the upload's
    own name, which is user text)."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else "png"
    return f"video-sources/{job.owner_id}/{uuid.uuid4().hex}.{extension}"


def new_request_id() -> str:
    """Return a fresh request id: sent with a submission, unique per attempt."""
    return f"glmweb-{uuid.uuid4().hex}"


class VideoJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SUBMITTED = "submitted", _("Submitting")
        PROCESSING = "processing", _("Generating")
        SUCCEEDED = "succeeded", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Quality(models.TextChoices):
        SPEED = "speed", _("Speed")
        QUALITY = "quality", _("Quality")

    IN_FLIGHT = (Status.QUEUED, Status.SUBMITTED, Status.PROCESSING)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="video_jobs",
        verbose_name=_("owner"),
    )
    prompt = models.TextField(_("prompt"), blank=True)
    source_image = models.FileField(
        _("source image"), upload_to=source_image_path, blank=True
    )
    model = models.CharField(_("model"), max_length=64)
    quality = models.CharField(
        _("quality"), max_length=16, choices=Quality.choices, default=Quality.SPEED
    )
    with_audio = models.BooleanField(_("with audio"), default=False)
    size = models.CharField(_("size"), max_length=16)
    fps = models.PositiveSmallIntegerField(_("frames per second"), default=30)
    duration = models.PositiveSmallIntegerField(_("duration"), null=True, blank=True)

    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.QUEUED,
        db_index=True,
    )
    # Sent with the submission; a new one for every attempt (retry), so tasks of an
    # earlier attempt never act on a later one.
    request_id = models.CharField(
        _("request id"), max_length=64, unique=True, default=new_request_id
    )
    upstream_task_id = models.CharField(
        _("platform task id"), max_length=128, blank=True
    )
    attempts = models.PositiveIntegerField(
        _("attempts"), default=0, help_text=_("Submissions sent to the platform.")
    )
    # Each poll claims the job by moving poll_seq on; a poll task carrying an older
    # number is stale and does nothing.
    poll_seq = models.PositiveIntegerField(_("polls"), default=0)
    # When the sweep takes over if no task has moved the job on (worker killed,
    # message lost). Empty once the job is finished.
    overdue_at = models.DateTimeField(
        _("overdue at"), null=True, blank=True, db_index=True
    )
    deadline_at = models.DateTimeField(_("deadline at"), null=True, blank=True)
    # After an upstream "not now" (429/503): no submission before this time, even by
    # an early duplicate message.
    submit_after = models.DateTimeField(_("submit after"), null=True, blank=True)

    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)

    video = models.FileField(_("video"), blank=True)
    cover = models.FileField(_("cover"), blank=True)
    video_bytes = models.PositiveBigIntegerField(
        _("video size in bytes"), null=True, blank=True
    )

    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, db_index=True
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # When the current attempt was queued (creation, or the last retry).
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    processing_at = models.DateTimeField(_("processing at"), null=True, blank=True)
    succeeded_at = models.DateTimeField(_("succeeded at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("video job")
        verbose_name_plural = _("video jobs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return f"VideoJob {self.pk} ({self.status})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def in_flight(self) -> bool:
        return self.status in self.IN_FLIGHT

    @property
    def finished_at(self) -> datetime | None:
        return self.succeeded_at or self.failed_at or self.cancelled_at
