"""The hostile upload corpus (tests/hostile_files.py) at the video form's image
(image-to-video): refused with nothing stored, or stored re-encoded under a generated
name and served to its owner as exactly those bytes with a safe type and nosniff."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from media_jobs.models import VideoJob
from tests import hostile_files
from tests.hostile_files import CORPUS

pytestmark = pytest.mark.django_db

FORM = {"prompt": "", "model": "cogvideox-3", "quality": "speed",
        "size": "1920x1080", "fps": "30", "duration": ""}  # fmt: skip
# What the form takes (the platform's image-to-video sources).
FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
CJK = re.compile(r"[\u4e00-\u9fff]")
FIELD_ERROR = re.compile(r'class="field-errors"[^>]*>(.*?)</div>', re.S)


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize("entry", CORPUS, ids=[e.id for e in CORPUS])
def test_video_form_image_refuses_or_reencodes_every_hostile_file(
    client, owner, settings, tmp_path, entry
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.IMAGE_MAX_UPLOAD_BYTES = hostile_files.MAX_BYTES
    settings.IMAGE_MAX_PIXELS = hostile_files.MAX_PIXELS
    root = tmp_path / "media"
    client.force_login(owner)
    lang = "zh-hans" if CORPUS.index(entry) % 2 == 0 else "en"
    body, content_type = hostile_files.multipart(FORM, "image", entry, entry.data)

    response = client.post(
        reverse("media_jobs:index"),
        body,
        content_type=content_type,
        headers={"accept-language": lang},
    )

    outcome = hostile_files.expected(entry, FORMATS)
    if outcome != "reencoded":
        assert response.status_code == 400
        if outcome == "refused":
            errors = FIELD_ERROR.findall(response.content.decode())
            assert len(errors) == 1 and errors[0].strip()
            assert bool(CJK.search(errors[0])) == (lang == "zh-hans"), errors[0]
        assert not VideoJob.objects.exists()
        assert stored_files(root) == []
        return
    assert response.status_code == 302, response.content
    job = VideoJob.objects.get()
    name = job.source_image.name
    assert re.fullmatch(rf"video-sources/{owner.pk}/[0-9a-f]{{32}}\.(png|jpg)", name)
    path = (root / name).resolve()
    assert path.is_relative_to(root.resolve())
    stored = path.read_bytes()
    hostile_files.is_reencoded_image(stored)
    served = client.get(reverse("media_jobs:file", args=[job.pk, "source"]))
    hostile_files.assert_safe_download_headers(served, stored)


def test_admin_offers_no_file_upload_around_the_form_and_worker(
    client, owner, django_user_model
):
    # A file set in the admin would skip the form's re-encoding and be served with a
    # type guessed from the uploader's name.
    job = VideoJob.objects.create(owner=owner, prompt="a cat", model="cogvideox-3")
    admin = django_user_model.objects.create_superuser("root", password="pw-12345-x")
    client.force_login(admin)

    page = client.get(f"/admin/media_jobs/videojob/{job.pk}/change/")

    assert page.status_code == 200
    assert b'name="prompt"' in page.content
    assert b'type="file"' not in page.content
