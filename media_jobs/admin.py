"""Admin for video jobs: find a job by user, status, request id or task id."""

from __future__ import annotations

from django.contrib import admin

from media_jobs.models import VideoJob


@admin.register(VideoJob)
class VideoJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "status",
        "model",
        "size",
        "attempts",
        "error_code",
        "created_at",
        "updated_at",
    )
    list_filter = ("status", "model", "quality", "with_audio")
    search_fields = (
        "prompt",
        "request_id",
        "upstream_task_id",
        "owner__username",
    )
    raw_id_fields = ("owner",)
    date_hierarchy = "created_at"
    # The files are read-only here: the job form re-encodes the source image and the
    # worker stores the platform's files; a file set in the admin would skip both and be
    # served with a type guessed from the uploader's name.
    readonly_fields = (
        "source_image",
        "video",
        "cover",
        "request_id",
        "upstream_task_id",
        "attempts",
        "poll_seq",
        "overdue_at",
        "deadline_at",
        "video_bytes",
        "created_at",
        "updated_at",
        "queued_at",
        "submitted_at",
        "processing_at",
        "succeeded_at",
        "failed_at",
        "cancelled_at",
    )
