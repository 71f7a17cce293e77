"""Video jobs per user per hour (VIDEO_MAX_PER_HOUR), beside the in-flight limit:
starting and cancelling jobs cannot run up the platform's bill."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from media_jobs import services
from media_jobs.models import VideoJob

pytestmark = pytest.mark.django_db


def start(owner) -> VideoJob:
    return services.create_video_job(
        owner,
        services.VideoRequest(
            prompt="a fox",
            model="cogvideox-3",
            quality="quality",
            with_audio=False,
            size="1280x720",
            fps=30,
            duration=5,
        ),
    )


def test_jobs_past_the_hourly_limit_are_refused_even_when_cancelled(
    owner, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_MAX_PER_HOUR = 3
    settings.VIDEO_MAX_IN_FLIGHT = 10
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(3):
            services.cancel_video_job(start(owner))

        with pytest.raises(services.JobRateError) as caught:
            start(owner)

    assert VideoJob.objects.filter(owner=owner).count() == 3
    with translation.override("en"):
        assert caught.value.user_message() == (
            "You can start 3 videos per hour. Please try again later."
        )
    with translation.override("zh-hans"):
        assert "每小时最多可以开始 3 个视频" in caught.value.user_message()


def test_jobs_older_than_an_hour_do_not_count(
    owner, stranger, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_MAX_PER_HOUR = 2
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(2):
            services.cancel_video_job(start(owner))
        VideoJob.objects.filter(owner=owner).update(
            created_at=timezone.now() - timedelta(minutes=61)
        )
        start(owner)
        start(stranger)  # another user's count is their own
        start(stranger)
