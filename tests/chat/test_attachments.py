"""Attachments over HTTP: the upload checks and normalises before storing, refuses bad
files with nothing stored, serves files only to their owner, and purges."""

from __future__ import annotations

import io
import struct
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from chat import attachments, conversations
from chat.models import Attachment, Message

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

VIDEO = (
    Path(__file__).resolve().parents[2] / "glmweb/zhipu/simulator/assets/video.mp4"
).read_bytes()


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def picture(size=(64, 48), colour=(255, 0, 0), fmt="PNG", **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt, **save)
    return out.getvalue()


def upload(client, data: bytes, name="photo.png", **extra):
    # The browser's claimed type is a lie on purpose: only the bytes decide.
    file = SimpleUploadedFile(name, data, content_type="image/png")
    return client.post("/api/attachments/", {"file": file}, **extra)


def test_upload_stores_a_normalised_image_and_answers_its_urls(
    alice_client, user, media_root
):
    response = upload(alice_client, picture(fmt="WEBP"), "cat.webp")

    assert response.status_code == 201
    body = response.json()["attachment"]
    assert body["kind"] == "image" and body["name"] == "cat.webp"
    assert (body["width"], body["height"]) == (64, 48)
    assert body["content_type"] == "image/jpeg"  # re-encoded, whatever came in
    row = Attachment.objects.get(pk=body["id"])
    assert row.owner == user and row.message is None
    assert body["url"] == f"/api/attachments/{row.pk}/file"
    assert body["thumbnail_url"] == f"/api/attachments/{row.pk}/thumbnail"
    assert not row.file.name.endswith("cat.webp")  # a generated name
    assert len(stored_files(media_root)) == 2  # the image and its thumbnail


def test_upload_applies_exif_orientation_and_strips_metadata(alice_client):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    exif[0x010F] = "SecretCam"
    data = picture(size=(80, 40), fmt="JPEG", exif=exif.tobytes())

    body = upload(alice_client, data, "phone.jpg").json()["attachment"]

    assert (body["width"], body["height"]) == (40, 80)
    stored = Attachment.objects.get(pk=body["id"]).file.read()
    assert b"SecretCam" not in stored and b"Exif" not in stored


def test_upload_takes_the_first_frame_of_a_gif(alice_client):
    frames = [Image.new("P", (20, 10), i) for i in (1, 2)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])

    body = upload(alice_client, out.getvalue(), "anim.gif").json()["attachment"]

    assert body["kind"] == "image" and (body["width"], body["height"]) == (20, 10)


def test_upload_scales_an_image_to_the_platform_side_limit(alice_client, settings):
    settings.GLMWEB_VISION_MAX_SIDE = 300

    body = upload(alice_client, picture(size=(900, 600))).json()["attachment"]

    assert (body["width"], body["height"]) == (300, 200)


def test_upload_of_a_short_mp4_is_a_video(alice_client):
    body = upload(alice_client, VIDEO, "clip.mp4").json()["attachment"]

    assert body["kind"] == "video" and body["content_type"] == "video/mp4"
    assert body["duration"] == pytest.approx(1.0)
    assert body["thumbnail_url"] == body["url"]


def _too_long(video: bytes) -> bytes:
    at = video.index(b"mvhd") + 4
    timescale = struct.unpack(">I", video[at + 12 : at + 16])[0]
    return video[: at + 16] + struct.pack(">I", timescale * 90) + video[at + 20 :]


# HTML, SVG, polyglots, bombs, truncated images and hostile names are the shared
# corpus's (tests/hostile_files.py, tests/chat/test_hostile_uploads.py).
BAD_FILES = [
    ("empty", b""),
    ("bmp", picture(fmt="BMP")),
    ("mp4 too long", _too_long(VIDEO)),
    ("mp4 truncated", VIDEO[:40]),
]


@pytest.mark.parametrize(("label", "data"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_with_nothing_stored(
    alice_client, media_root, label, data
):
    response = upload(alice_client, data, "innocent.png", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400, label
    assert response.json()["error"]["message"]
    assert Attachment.objects.count() == 0
    assert stored_files(media_root) == []


def test_refusals_are_worded_in_the_users_language(alice_client):
    zh = upload(alice_client, b"<svg/>", "a.png", HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = upload(alice_client, b"<svg/>", "a.png", HTTP_ACCEPT_LANGUAGE="en")

    assert "图片" in zh.json()["error"]["message"]
    assert "not an image" in en.json()["error"]["message"]


def test_an_oversized_body_is_refused_from_its_length(alice_client, settings):
    settings.GLMWEB_MAX_UPLOAD_BYTES = 1000
    response = upload(alice_client, picture(size=(600, 600), fmt="BMP"), "big.bmp")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert Attachment.objects.count() == 0


def test_the_same_image_twice_is_stored_once(alice_client, media_root):
    first = upload(alice_client, picture()).json()["attachment"]
    again = upload(alice_client, picture()).json()["attachment"]
    assert again["id"] == first["id"]  # still unsent: the same attachment

    Attachment.objects.filter(pk=first["id"]).update(message=_a_message(first))
    third = upload(alice_client, picture()).json()["attachment"]

    assert third["id"] != first["id"]
    assert len(stored_files(media_root)) == 2  # one image, one thumbnail


def _a_message(attachment_dict) -> Message:
    row = Attachment.objects.get(pk=attachment_dict["id"])
    conversation = conversations.create_conversation(row.owner)
    return Message.objects.create(conversation=conversation, role="user", content="x")


def test_anonymous_upload_is_refused(client):
    response = upload(client, picture())
    assert response.status_code == 401
    assert Attachment.objects.count() == 0


def test_upload_needs_the_csrf_token(user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = upload(strict, picture())

    assert response.status_code == 403
    assert Attachment.objects.count() == 0


def test_files_are_served_only_to_their_owner_with_nosniff(
    alice_client, client, other_user
):
    body = upload(alice_client, picture()).json()["attachment"]

    mine = alice_client.get(body["url"])
    assert mine.status_code == 200
    assert mine["Content-Type"] == "image/jpeg"
    assert mine["X-Content-Type-Options"] == "nosniff"
    assert b"".join(mine.streaming_content)[:2] == b"\xff\xd8"
    assert alice_client.get(body["thumbnail_url"]).status_code == 200

    client.force_login(other_user)
    for url in (body["url"], body["thumbnail_url"], f"/api/attachments/{body['id']}/"):
        assert client.get(url).status_code in (404, 405)
    assert client.delete(f"/api/attachments/{body['id']}/").status_code == 404
    assert client.post(f"/api/attachments/{body['id']}/copy/").status_code == 404
    assert Attachment.objects.filter(pk=body["id"]).exists()


def test_removing_an_unsent_attachment_deletes_its_files(alice_client, media_root):
    body = upload(alice_client, picture()).json()["attachment"]

    response = alice_client.delete(f"/api/attachments/{body['id']}/")

    assert response.json() == {"deleted": True}
    assert stored_files(media_root) == []


def test_unsent_attachments_older_than_a_day_are_purged(user, media_root):
    old = attachments.store_upload(user, io.BytesIO(picture()), "old.png")
    fresh = attachments.store_upload(
        user, io.BytesIO(picture(colour=(0, 0, 255))), "new.png"
    )
    Attachment.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    from chat import tasks

    assert tasks.purge_unsent_attachments() == 1

    assert list(Attachment.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not default_storage.exists(old.file.name)
    assert default_storage.exists(fresh.file.name)


def test_purging_a_deleted_conversation_deletes_its_files(user, media_root):
    shared = attachments.store_upload(user, io.BytesIO(picture()), "a.png")
    conversation = conversations.create_conversation(user)
    message = Message.objects.create(
        conversation=conversation, role="user", content="look"
    )
    Attachment.objects.filter(pk=shared.pk).update(message=message)
    # The same bytes sent in a kept conversation share the file: it must stay.
    kept = conversations.create_conversation(user)
    kept_message = Message.objects.create(conversation=kept, role="user", content="x")
    twin = attachments.store_upload(user, io.BytesIO(picture()), "a.png")
    Attachment.objects.filter(pk=twin.pk).update(message=kept_message)
    other = attachments.store_upload(
        user, io.BytesIO(picture(colour=(0, 255, 0))), "b.png"
    )
    Attachment.objects.filter(pk=other.pk).update(message=message)
    conversations.delete_conversation(conversation)
    type(conversation).objects.filter(pk=conversation.pk).update(
        deleted_at=timezone.now() - timedelta(days=40)
    )

    assert conversations.purge_deleted_conversations() == 1

    assert not default_storage.exists(other.file.name)
    assert default_storage.exists(twin.file.name)
    assert list(Attachment.objects.values_list("pk", flat=True)) == [twin.pk]
