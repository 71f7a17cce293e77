"""The video pages through Django's test client: the form, the live status JSON,
cancel / retry / delete, and files that only their owner can fetch."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from glmweb.zhipu.simulator.video import MEDIA
from media_jobs.models import VideoJob

pytestmark = pytest.mark.django_db

Status = VideoJob.Status
MP4 = MEDIA[".mp4"][1]
FORM = {
    "prompt": "a paper boat in the rain",
    "model": "cogvideox-3",
    "quality": "speed",
    "size": "1920x1080",
    "fps": "30",
    "duration": "",
}


@pytest.fixture
def client_of(client, fast_settings):
    def login(user):
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return login


def finished_job(owner, **fields) -> VideoJob:
    job = VideoJob.objects.create(
        owner=owner,
        prompt="<b>boat</b>",
        model="cogvideox-3",
        size="1920x1080",
        status=Status.SUCCEEDED,
        succeeded_at=timezone.now(),
        **fields,
    )
    job.video.save(f"videos/{owner.pk}/{job.pk}.mp4", ContentFile(MP4))
    job.cover.save(
        f"videos/{owner.pk}/{job.pk}-cover.png", ContentFile(MEDIA[".png"][1])
    )
    return job


def test_videos_page_needs_a_login(client):
    response = client.get(reverse("media_jobs:index"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_form_queues_a_job_and_enqueues_its_submission_on_commit(
    client_of, owner, django_capture_on_commit_callbacks
):
    client = client_of(owner)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("media_jobs:index"), FORM)

    assert response.status_code == 302
    job = VideoJob.objects.get(owner=owner)
    assert (job.status, job.prompt, job.size, job.fps) == (
        Status.QUEUED,
        "a paper boat in the rain",
        "1920x1080",
        30,
    )
    assert job.duration is None and job.quality == "speed"
    assert len(callbacks) == 1


def test_form_with_a_size_the_model_cannot_make_keeps_what_was_typed(client_of, owner):
    client = client_of(owner)

    response = client.post(reverse("media_jobs:index"), {**FORM, "size": "720x480"})

    assert response.status_code == 400
    assert "cannot make 720x480 videos" in response.content.decode()
    assert "a paper boat in the rain" in response.content.decode()
    assert not VideoJob.objects.exists()


def test_form_rejects_a_file_that_is_not_an_image_in_chinese(client_of, owner):
    client = client_of(owner)
    upload = io.BytesIO(b"MZ\x90\x00 definitely not a picture")
    upload.name = "photo.png"

    response = client.post(
        reverse("media_jobs:index"),
        {**FORM, "image": upload},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 400
    assert "无法识别该文件" in response.content.decode()
    assert not VideoJob.objects.exists()


def test_form_stores_an_uploaded_image_normalised(
    client_of, owner, django_capture_on_commit_callbacks
):
    client = client_of(owner)
    upload = io.BytesIO()
    Image.new("RGB", (32, 16), (9, 9, 9)).save(upload, format="WEBP")
    upload.seek(0)
    upload.name = "../../etc/passwd.webp"

    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            reverse("media_jobs:index"), {**FORM, "prompt": "", "image": upload}
        )

    job = VideoJob.objects.get(owner=owner)
    assert job.source_image.name.startswith(f"video-sources/{owner.pk}/")
    assert job.source_image.name.endswith(".jpg")
    with job.source_image.open("rb") as stored:
        assert stored.read(3) == b"\xff\xd8\xff"


def test_form_refuses_a_job_over_the_in_flight_limit_with_a_clear_message(
    client_of, owner, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_MAX_IN_FLIGHT = 2
    client = client_of(owner)
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(2):
            assert client.post(reverse("media_jobs:index"), FORM).status_code == 302
        response = client.post(reverse("media_jobs:index"), FORM)

    assert response.status_code == 400
    assert "You already have 2 videos being made" in response.content.decode()
    assert VideoJob.objects.filter(owner=owner).count() == 2


def test_status_view_sends_changed_cards_of_the_owner_only(client_of, owner, stranger):
    mine = finished_job(owner)
    finished_job(stranger)
    client = client_of(owner)

    data = client.get(reverse("media_jobs:status")).json()

    assert data["ids"] == [mine.pk] and data["active"] is False
    [card] = data["jobs"]
    assert card["section"] == "gallery" and card["status"] == "succeeded"
    assert "&lt;b&gt;boat&lt;/b&gt;" in card["html"]  # the prompt is escaped
    assert f'src="/videos/{mine.pk}/video/"' in card["html"]
    later = client.get(
        reverse("media_jobs:status"), {"since": "2999-01-01T00:00:00+00:00"}
    )
    assert later.json()["jobs"] == [] and later.json()["ids"] == [mine.pk]
    # A naive or garbled `since` is read as UTC or ignored, never a server error.
    naive = client.get(reverse("media_jobs:status"), {"since": "2999-01-01T00:00:00"})
    assert naive.json()["jobs"] == []
    garbled = client.get(reverse("media_jobs:status"), {"since": "2999-99-99T00:00"})
    assert [job["id"] for job in garbled.json()["jobs"]] == [mine.pk]


def test_another_user_gets_404_for_every_url_of_a_job(client_of, owner, stranger):
    job = finished_job(owner)
    client = client_of(stranger)

    for kind in ("video", "cover", "source"):
        assert (
            client.get(reverse("media_jobs:file", args=[job.pk, kind])).status_code
            == 404
        )
    for action in ("cancel", "retry", "delete"):
        assert (
            client.post(reverse(f"media_jobs:{action}", args=[job.pk])).status_code
            == 404
        )
    page = client.get(reverse("media_jobs:index")).content.decode()
    assert "&lt;b&gt;boat" not in page and f"job-{job.pk}" not in page
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED


def test_owner_gets_the_video_whole_or_by_byte_range(client_of, owner):
    job = finished_job(owner)
    client = client_of(owner)
    url = reverse("media_jobs:file", args=[job.pk, "video"])

    whole = client.get(url)
    part = client.get(url, HTTP_RANGE="bytes=4-11")
    download = client.get(url, {"download": "1"})

    assert whole.status_code == 200 and whole["Content-Type"] == "video/mp4"
    assert b"".join(whole.streaming_content) == MP4
    assert (
        part.status_code == 206 and b"".join(part.streaming_content) == b"ftypisom"[:8]
    )
    assert part["Content-Range"] == f"bytes 4-11/{len(MP4)}"
    assert download["Content-Disposition"].startswith("attachment")
    assert client.get(url, HTTP_RANGE="bytes=999999-").status_code == 416


@pytest.mark.parametrize(
    ("language", "start"),
    [("en", "This file is no longer stored"), ("zh-hans", "服务器上已不再保存")],
)
def test_a_video_file_missing_from_storage_is_a_404_that_says_so(
    client_of, owner, language, start
):
    job = finished_job(owner)
    default_storage.delete(job.video.name)
    client = client_of(owner)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language

    response = client.get(reverse("media_jobs:file", args=[job.pk, "video"]))

    assert response.status_code == 404
    assert response.content.decode().startswith(start)


@pytest.mark.parametrize(
    ("language", "queued"),
    [
        ("en", r"Time since it was queued \([A-Z][a-z]+\.? \d{1,2}, 20\d\d, \d"),
        ("zh-hans", r"自排队以来的时间（20\d\d年\d{1,2}月\d{1,2}日 \d\d:\d\d）"),
    ],
)
def test_a_jobs_queued_time_is_written_in_the_users_language(
    client_of, owner, language, queued
):
    finished_job(owner)
    client = client_of(owner)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language

    page = client.get(reverse("media_jobs:index")).content.decode()

    assert re.search(queued, page), page


def test_cancel_retry_and_delete_follow_the_job_state(
    client_of, owner, django_capture_on_commit_callbacks
):
    client = client_of(owner)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("media_jobs:index"), FORM)
    job = VideoJob.objects.get(owner=owner)

    client.post(reverse("media_jobs:cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Status.CANCELLED
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("media_jobs:retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Status.QUEUED and len(callbacks) == 1

    done = finished_job(owner)
    video_name = done.video.name
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("media_jobs:delete", args=[done.pk]))
    assert not VideoJob.objects.filter(pk=done.pk).exists()
    assert not done.video.storage.exists(video_name)


def test_a_link_prefills_the_prompt_trimmed_to_the_platform_limit(client_of, owner):
    # Chat's "Make a video" is a link with ?prompt=: the form opens filled in, the
    # text trimmed to 512 characters, blanks collapsed, and nothing queued.
    client = client_of(owner)
    prompt = "A <b>cat</b>\n\n  on a boat " + "x" * 600

    response = client.get(reverse("media_jobs:index"), {"prompt": prompt})

    page = response.content.decode()
    assert response.status_code == 200
    expected = ("A <b>cat</b> on a boat " + "x" * 600)[:512]
    assert expected.replace("<", "&lt;").replace(">", "&gt;") + "</textarea>" in page
    assert "<b>cat</b>" not in page
    assert not VideoJob.objects.exists()
