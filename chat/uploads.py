"""The attachments' HTTP edge (docs/chat.md, "Images and videos"): upload, the
owner-only file views, remove, copy, and the signed public URL for URL-only models.

Thin views over chat.attachments. The upload is a multipart POST (field `file`, CSRF
token in X-CSRFToken) refused by its Content-Length before the body is parsed; the
file is checked and normalised before anything is stored. Files are served only to
their owner (another user's id is a 404 like a missing one), inline, with
`X-Content-Type-Options: nosniff` and the content type we stored, never one the
browser guessed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from chat import attachments, vision
from chat.models import Attachment
from chat.views import ApiRequest, api, error_response
from glmweb.images import human_size

# Room for the multipart framing and the other fields around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def _owned(request: ApiRequest, attachment_id: int) -> Attachment:
    try:
        return attachments.get_owned(request.user, attachment_id)
    except ObjectDoesNotExist:
        raise Http404("no such attachment") from None


def _created(attachment: Attachment) -> JsonResponse:
    return JsonResponse(
        {"attachment": attachments.attachment_dict(attachment)},
        status=201,
        json_dumps_params={"ensure_ascii": False},
    )


@api("POST", json_body=False)
def api_attachments(request: ApiRequest) -> HttpResponse:
    """POST multipart `file`: check, normalise and store an image or short video for
    a later message.send; 201 {"attachment": {...}} or 4xx with the reason."""
    limit = settings.GLMWEB_MAX_UPLOAD_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return error_response(
            411, "length_required", _("The upload must state its size.")
        )
    # Decided from the header, before Django parses a byte of the multipart body.
    if length > limit + MULTIPART_OVERHEAD:
        return error_response(
            413,
            "too_large",
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": human_size(length), "limit": human_size(limit)},
        )
    upload = request.FILES.get("file")
    if upload is None:
        return error_response(400, "no_file", _("Choose a file to attach."))
    try:
        attachment = attachments.store_upload(request.user, upload, upload.name or "")
    except attachments.UploadRejected as rejected:
        return error_response(
            400, rejected.code, rejected.user_message(get_language() or "zh-hans")
        )
    return _created(attachment)


@api("DELETE")
def api_attachment(request: ApiRequest, attachment_id: int) -> HttpResponse:
    """DELETE an unsent attachment (removed from the composer). A sent one stays
    with its message: {"deleted": false}."""
    deleted = attachments.discard(_owned(request, attachment_id))
    return JsonResponse({"deleted": deleted})


@api("POST", json_body=False)
def api_attachment_copy(request: ApiRequest, attachment_id: int) -> HttpResponse:
    """POST: a new unsent attachment with the same file (to send an image of a failed
    reply again); 201 {"attachment": {...}}."""
    return _created(attachments.duplicate(_owned(request, attachment_id)))


def _serve(field: FieldFile, content_type: str, name: str) -> HttpResponseBase:
    # `name` is only ever attachments.download_name(): the extension is the stored
    # file's, so the browser's "save as" never makes a .html of it.
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404("file missing from storage") from None
    response = FileResponse(handle, content_type=content_type, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    # Served inline but never as a document of this origin: no script could run.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@api("GET")
def attachment_file(request: ApiRequest, attachment_id: int) -> HttpResponseBase:
    """The owner's attachment, full size."""
    attachment = _owned(request, attachment_id)
    return _serve(
        attachment.file,
        attachment.content_type,
        attachments.download_name(attachment, attachment.file.name or ""),
    )


@api("GET")
def attachment_thumbnail(request: ApiRequest, attachment_id: int) -> HttpResponseBase:
    """The owner's image attachment, as a small thumbnail."""
    attachment = _owned(request, attachment_id)
    if not attachment.thumbnail:
        raise Http404("no thumbnail")
    name = attachment.thumbnail.name or ""
    content_type = "image/png" if name.endswith(".png") else "image/jpeg"
    return _serve(
        attachment.thumbnail, content_type, attachments.download_name(attachment, name)
    )


def attachment_public(request: HttpRequest, token: str) -> HttpResponseBase:
    """The file a signed, expiring URL names (chat.vision.public_url): only for the
    platform to download images for models that take no base64. 404 otherwise."""
    if request.method not in {"GET", "HEAD"}:
        raise Http404("not here")
    attachment_id = vision.public_attachment_id(token)
    if attachment_id is None:
        raise Http404("no such file")
    attachment = Attachment.objects.filter(
        pk=attachment_id, message__isnull=False
    ).first()
    if attachment is None:
        raise Http404("no such file")
    # The platform gets no user's file name, only the kind and the stored extension.
    extension = (attachment.file.name or "").rpartition(".")[2]
    return _serve(
        attachment.file, attachment.content_type, f"{attachment.kind}.{extension}"
    )
