"""The worker-side steps (lifecycle.py) called directly against the running simulator:
claims, backoff, lost replies, polling, collection and the sweep."""

from __future__ import annotations

import base64
import io
import threading
import time
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from PIL import Image

from glmweb import images, zhipu
from media_jobs import collect, lifecycle, services
from media_jobs.models import VideoJob
from tests.conftest import free_port
from tests.media_jobs.conftest import submissions

pytestmark = pytest.mark.django_db

Status = VideoJob.Status


@pytest.fixture
def make_job(owner, fast_settings, django_capture_on_commit_callbacks):
    def make(prompt: str = "a fox in snow", **overrides) -> VideoJob:
        fields = {
            "prompt": prompt,
            "model": "cogvideox-3",
            "quality": "quality",
            "with_audio": True,
            "size": "1280x720",
            "fps": 60,
            "duration": 5,
            **overrides,
        }
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            job = services.create_video_job(owner, services.VideoRequest(**fields))
        assert len(callbacks) == 1  # the submit task, enqueued once committed
        return job

    return make


def processing_job(make_job, prompt: str = "ready [[sim:ready_after=0]]") -> VideoJob:
    job = make_job(prompt)
    step = lifecycle.submit_video_job(job.pk, job.request_id)
    assert step == lifecycle.Next("poll", job.pk, job.request_id, 0.3, seq=0)
    return VideoJob.objects.get(pk=job.pk)


def test_submit_video_job_claims_the_job_so_a_second_delivery_sends_nothing(
    make_job, simulator
):
    job = make_job()

    first = lifecycle.submit_video_job(job.pk, job.request_id)
    second = lifecycle.submit_video_job(job.pk, job.request_id)

    assert first is not None and first.task == "poll"
    assert second is None
    job.refresh_from_db()
    assert job.status == Status.PROCESSING and job.attempts == 1
    sent = submissions(simulator, job.request_id)
    assert len(sent) == 1
    assert sent[0]["json"] == {
        "model": "cogvideox-3",
        "prompt": "a fox in snow",
        "quality": "quality",
        "with_audio": True,
        "size": "1280x720",
        "fps": 60,
        "duration": 5,
        "request_id": job.request_id,
        "user_id": f"glmweb-user-{job.owner_id}",
    }


def test_submit_video_job_sends_the_normalised_source_image(
    owner, fast_settings, simulator, django_capture_on_commit_callbacks
):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 128, 0)).save(out, format="PNG")
    image = images.normalise_image(out.getvalue())
    with django_capture_on_commit_callbacks(execute=False):
        job = services.create_video_job(
            owner,
            services.VideoRequest(
                prompt="",
                model="cogvideox-3",
                quality="speed",
                with_audio=False,
                size="1920x1080",
                fps=30,
                image=image,
            ),
        )

    lifecycle.submit_video_job(job.pk, job.request_id)

    sent = submissions(simulator, job.request_id)[0]["json"]
    assert "prompt" not in sent
    # The client cuts the data-URL prefix, as the SDK does.
    assert base64.b64decode(sent["image_url"]) == image.data


def test_submit_answered_429_goes_back_to_the_queue_with_a_growing_backoff(
    make_job, simulator
):
    job = make_job("busy [[sim:status=429]]")

    step = lifecycle.submit_video_job(job.pk, job.request_id)

    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.error_code == "rate_limited"
    assert step == lifecycle.Next("submit", job.pk, job.request_id, 0.5)
    # Too early: an early duplicate message does not send again.
    assert lifecycle.submit_video_job(job.pk, job.request_id) is None
    assert lifecycle.submit_backoff(2, None) == 1.0
    assert lifecycle.submit_backoff(2, 7.0) == 7.0  # Retry-After wins when longer
    assert len(submissions(simulator, job.request_id)) == 1


def test_submit_answered_429_too_often_fails_with_the_platform_message(
    make_job, simulator, settings
):
    settings.VIDEO_SUBMIT_MAX_ATTEMPTS = 1
    job = make_job("busy [[sim:status=429]]")

    assert lifecycle.submit_video_job(job.pk, job.request_id) is None

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_code == "rate_limited"
    assert job.error_message.startswith("[1302] ")


def test_submit_answered_400_fails_with_the_platform_message(make_job, simulator):
    job = make_job("bad [[sim:status=400]]")

    assert lifecycle.submit_video_job(job.pk, job.request_id) is None

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_code == "bad_request"
    assert job.error_message == "[1210] API 调用参数有误，请检查文档。"
    assert job.failed_at is not None


def test_submit_whose_reply_is_lost_is_marked_and_not_sent_again(make_job, simulator):
    # The platform takes the task; its answer never reaches us.
    job = make_job("reply lost on the way back [[sim:hang_up]]")

    assert lifecycle.submit_video_job(job.pk, job.request_id) is None

    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.error_code == lifecycle.UNCONFIRMED
    assert lifecycle.submit_video_job(job.pk, job.request_id) is None
    assert len(submissions(simulator, job.request_id)) == 1


def test_submit_that_cannot_connect_is_retried_later(make_job, settings):
    settings.ZHIPUAI_BASE_URL = f"http://127.0.0.1:{free_port()}/api/paas/v4/"
    job = make_job()

    step = lifecycle.submit_video_job(job.pk, job.request_id)

    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.error_code == "connection_failed"
    assert step is not None and step.task == "submit"


def test_poll_countdowns_grow_and_stop_at_the_cap(settings):
    settings.VIDEO_POLL_FIRST_SECONDS = 5
    settings.VIDEO_POLL_MAX_SECONDS = 60

    assert [lifecycle.poll_countdown(n) for n in range(6)] == [5, 10, 20, 40, 60, 60]


def test_poll_of_an_unfinished_job_schedules_a_longer_wait(make_job, simulator):
    job = processing_job(make_job, "slow [[sim:ready_after=60]]")

    step = lifecycle.poll_video_job(job.pk, job.request_id, 0)

    assert step == lifecycle.Next("poll", job.pk, job.request_id, 0.6, seq=1)
    # The poll it replaced is now stale and does nothing.
    assert lifecycle.poll_video_job(job.pk, job.request_id, 0) is None


def test_poll_of_a_finished_job_collects_the_video_and_cover(make_job, simulator):
    job = processing_job(make_job)

    assert lifecycle.poll_video_job(job.pk, job.request_id, 0) is None

    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    with default_storage.open(job.video.name, "rb") as video:
        assert collect.sniff_video(video.read(16))
    with default_storage.open(job.cover.name, "rb") as cover:
        assert collect.sniff_image(cover.read(16)) == "png"


def test_poll_of_an_upstream_failure_fails_the_job(make_job, simulator):
    job = processing_job(make_job, "doomed [[sim:video_fail,ready_after=0]]")

    lifecycle.poll_video_job(job.pk, job.request_id, 0)

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_code == lifecycle.UPSTREAM_FAILED


def test_poll_past_the_deadline_fails_without_asking(make_job, simulator):
    job = processing_job(make_job, "slow [[sim:ready_after=60]]")
    VideoJob.objects.filter(pk=job.pk).update(deadline_at=timezone.now())
    before = len(simulator.requests())

    assert lifecycle.poll_video_job(job.pk, job.request_id, 0) is None

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_code == lifecycle.DEADLINE
    assert len(simulator.requests()) == before


def test_collect_refuses_a_file_that_is_not_an_mp4(make_job, simulator):
    job = processing_job(make_job)
    cover_url = f"{simulator.root}/_sim/media/{job.upstream_task_id}.png"

    with pytest.raises(Exception) as caught:
        collect.collect_media(job, cover_url, None)

    assert caught.value.kind == "bad_media" and not caught.value.transient


def test_sweep_enqueues_an_overdue_poll_once_and_fails_a_stuck_submission(
    make_job, simulator
):
    polling = processing_job(make_job, "slow [[sim:ready_after=60]]")
    stuck = make_job("stuck")
    queued = make_job("waiting")
    past = timezone.now() - timedelta(seconds=5)
    VideoJob.objects.filter(pk=polling.pk).update(overdue_at=past)
    VideoJob.objects.filter(pk=stuck.pk).update(
        status=Status.SUBMITTED, overdue_at=past
    )
    VideoJob.objects.filter(pk=queued.pk).update(overdue_at=past)

    first = lifecycle.sweep_video_jobs()
    second = lifecycle.sweep_video_jobs()

    assert sorted(first, key=lambda step: step.job_id) == [
        lifecycle.Next("poll", polling.pk, polling.request_id, seq=0),
        lifecycle.Next("submit", queued.pk, queued.request_id),
    ]
    assert second == []
    stuck.refresh_from_db()
    assert stuck.status == Status.FAILED and stuck.error_code == lifecycle.UNCONFIRMED


def test_cancel_stops_polling_and_retry_starts_a_new_attempt(make_job, simulator):
    job = processing_job(make_job, "slow [[sim:ready_after=60]]")
    old_request_id = job.request_id

    assert services.cancel_video_job(job)
    assert lifecycle.poll_video_job(job.pk, old_request_id, 0) is None
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and job.cancelled_at is not None

    assert services.retry_video_job(job)
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.request_id != old_request_id
    assert lifecycle.submit_video_job(job.pk, old_request_id) is None


def test_collect_failure_keeps_the_kind_out_of_the_message(make_job, simulator):
    job = processing_job(make_job)
    cover_url = f"{simulator.root}/_sim/media/{job.upstream_task_id}.png"
    result = zhipu.VideoResult(zhipu.VideoStatus.SUCCESS, video_url=cover_url)

    assert lifecycle._collect(job, 0, result) is None

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_code == "bad_media"
    assert job.error_message == "unexpected content type 'image/png'"


def test_a_result_url_off_the_platform_fails_as_unfetchable_without_the_reason(
    make_job, simulator
):
    """SSRF: a result URL (or redirect) to an internal address is refused; the job
    says only that the platform's file could not be fetched (zhipu.fetchguard)."""
    from django.utils import translation

    from media_jobs import display

    job = processing_job(make_job)
    # The simulator's own origin is trusted; the same host on another port is not.
    internal = f"http://127.0.0.1:{free_port()}/{job.upstream_task_id}.mp4"
    result = zhipu.VideoResult(zhipu.VideoStatus.SUCCESS, video_url=internal)

    assert lifecycle._collect(job, 0, result) is None

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_code == "media_unfetchable"
    assert job.error_message == "the platform's file could not be fetched"
    with translation.override("zh-hans"):
        assert "无法获取平台提供的文件" in display.explain_error(job)
    with translation.override("en"):
        assert "could not be fetched" in display.explain_error(job)


def test_a_collection_that_loses_the_race_deletes_only_its_own_files(
    make_job, simulator
):
    job = processing_job(make_job)
    video_url = f"{simulator.root}/_sim/media/{job.upstream_task_id}.mp4"
    # A slow first collection has its files; a second one (the sweep's) wins the job.
    loser = collect.collect_media(job, video_url, None)
    assert lifecycle.poll_video_job(job.pk, job.request_id, 0) is None
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED

    collect.delete_files(loser.video, loser.cover)  # what the losing branch does

    assert loser.video != job.video.name
    assert default_storage.exists(job.video.name)
    assert default_storage.exists(job.cover.name)


@pytest.mark.django_db(transaction=True)
def test_a_download_slower_than_the_claim_window_keeps_its_claim(
    owner, fast_settings, simulator, settings
):
    settings.VIDEO_DOWNLOAD_TIMEOUT = 1.0
    settings.ZHIPUAI_CONNECT_TIMEOUT = 0.5
    # The window is 2 x (1 + 0.5) + 1 s of grace = 4 s; the file host takes 6 s.
    job = VideoJob.objects.create(
        owner=owner,
        prompt="a slow file [[sim:ready_after=0,media_drip_s=6]]",
        model="cogvideox-3",
        size="1280x720",
    )
    assert lifecycle.submit_video_job(job.pk, job.request_id) is not None
    outcome: dict[str, object] = {}

    def collect_in_a_worker() -> None:
        try:
            outcome["next"] = lifecycle.poll_video_job(job.pk, job.request_id, 0)
        finally:
            connection.close()

    worker = threading.Thread(target=collect_in_a_worker)
    worker.start()
    swept: list[lifecycle.Next] = []
    give_up = time.monotonic() + 20
    while worker.is_alive() and time.monotonic() < give_up:
        swept += lifecycle.sweep_video_jobs()
        time.sleep(0.25)
    worker.join(timeout=5)

    assert outcome == {"next": None}
    assert swept == []  # bytes kept flowing, so the collection was left alone
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    assert default_storage.exists(job.video.name)
