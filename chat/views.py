"""The chat page and its JSON API (docs/chat.md).

Thin edges: parse the request, load the user's own rows (another user's object is a
404, exactly like a missing one), call chat.conversations / chat.presets, shape JSON.
API errors are `{"error": {"code", "message", "fields"?}}` with the message in the
user's language; an anonymous API call gets 401 JSON, an anonymous page a redirect.
Unsafe methods need Django's CSRF token (header X-CSRFToken).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, cast
from uuid import UUID

import orjson
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import csrf as django_csrf
from django.views.decorators.csrf import ensure_csrf_cookie

from chat import catalog, conversations, exports, message_pages, presets
from chat.forms import ConversationForm, PresetForm, error_fields
from chat.serializers import conversation_dict, message_dict, summary_dict
from glmweb.accounts.requests import AuthenticatedRequest

JSON_PARAMS = {"ensure_ascii": False}
View = Callable[..., HttpResponseBase]


class ApiRequest(AuthenticatedRequest):
    """A request inside an `api` view: logged in, with its JSON body in `data`."""

    data: dict[str, Any]


def error_response(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    """Return the API's error shape."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return JsonResponse({"error": error}, status=status, json_dumps_params=JSON_PARAMS)


def _ok(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params=JSON_PARAMS)


def _invalid(form: Any) -> JsonResponse:
    return error_response(
        400, "invalid", _("Please correct the fields below."), error_fields(form)
    )


def api(*methods: str, json_body: bool = True) -> Callable[[View], View]:
    """Wrap an API view: 401 for anonymous users, 405 for other methods, 404 JSON
    for Http404, and (with `json_body`) `request.data` holding the decoded JSON
    object of a POST/PATCH body."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return error_response(401, "not_authenticated", _("Please log in."))
            if request.method not in methods:
                response = error_response(
                    405, "method_not_allowed", _("This method is not allowed here.")
                )
                response["Allow"] = ", ".join(methods)
                return response
            request.data = {}  # type: ignore[attr-defined]
            if json_body and request.method in {"POST", "PATCH"} and request.body:
                # orjson, as for socket frames (chat.frames): it refuses what the
                # stdlib decoder lets through to a 500 further on (nesting past the
                # recursion limit, lone surrogates, numbers past a double, NaN).
                try:
                    data = orjson.loads(request.body)
                except orjson.JSONDecodeError:
                    data = None
                if not isinstance(data, dict):
                    return error_response(
                        400,
                        "invalid_json",
                        _("The request body must be a JSON object."),
                    )
                request.data = data  # type: ignore[attr-defined]
            try:
                return view(request, *args, **kwargs)
            except Http404:
                return error_response(404, "not_found", _("Not found."))

        return wrapper

    return decorate


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: JSON for the API, Django's page everywhere else."""
    if request.path.startswith("/api/"):
        return error_response(
            403,
            "csrf_failed",
            _("This page is out of date or your session expired. Reload the page."),
        )
    return django_csrf.csrf_failure(request, reason)


# --- Pages ----------------------------------------------------------------------------

# reverse() needs a real argument; these stand in for the id and are swapped for "{id}",
# so the page builds every URL from the URLconf and the script writes none itself.
_SAMPLE_UUID = UUID(int=0)
_SAMPLE_INT = 2147483647


def _url_with_id(name: str, sample: UUID | int) -> str:
    return reverse(name, args=[sample]).replace(str(sample), "{id}")


def page_urls() -> dict[str, str]:
    """Return every URL the chat page's script uses, `{id}` marking the object's id."""
    conversation = functools.partial(_url_with_id, sample=_SAMPLE_UUID)
    return {
        "page": reverse("chat:index"),
        "conversation_page": conversation("chat:conversation"),
        "conversations": reverse("chat:api_conversations"),
        "conversation": conversation("chat:api_conversation"),
        "conversation_restore": conversation("chat:api_conversation_restore"),
        "conversation_messages": conversation("chat:api_conversation_messages"),
        "export_md": conversation("chat:api_export_markdown"),
        "export_json": conversation("chat:api_export_json"),
        "greeting": conversation("chat:api_conversation_greeting"),
        "presets": reverse("chat:api_presets"),
        "preset": _url_with_id("chat:api_preset", _SAMPLE_INT),
        "attachments": reverse("chat:api_attachments"),
        "attachment": _url_with_id("chat:api_attachment", _SAMPLE_INT),
        "attachment_copy": _url_with_id("chat:api_attachment_copy", _SAMPLE_INT),
        # The video form, opened prefilled by an answer's "Make a video" (`?prompt=`):
        # a link, so chat never imports media_jobs.
        "video_form": reverse("media_jobs:index"),
        # Channels' routes are not in the URLconf: chat.routing serves ws/chat/<id>/.
        "socket": "/ws/chat/{id}/",
    }


def page_data(
    request: AuthenticatedRequest, conversation_id: UUID | None
) -> dict[str, Any]:
    """Return what the chat page's script starts from (json_script, never the key).

    Every key is read by static/chat/*.js; its UI strings come from the djangojs
    catalog (glmweb/urls.py), not from here."""
    models = catalog.catalog()
    return {
        "conversation_id": str(conversation_id) if conversation_id else None,
        "models": models,
        "default_model": catalog.default_model(),
        # Offered by the picker only in a conversation with a character.
        "roleplay_models": [catalog.model_dict(m) for m in catalog.roleplay_models()],
        "presets": presets.all_presets(request.user),
        "limits": {
            "max_message_chars": settings.GLMWEB_MAX_MESSAGE_CHARS,
            "max_system_prompt_chars": settings.GLMWEB_MAX_SYSTEM_PROMPT_CHARS,
            "temperature": {
                "min": catalog.TEMPERATURE_RANGE[0],
                "max": catalog.TEMPERATURE_RANGE[1],
            },
            "top_p": {
                "min": catalog.TOP_P_RANGE[0],
                "max": catalog.TOP_P_RANGE[1],
                "min_exclusive": True,
            },
            "max_tokens": {
                "min": 1,
                "max": max(model["max_output"] for model in models),
            },
            # Attachments: each model's own limits are in models[].vision.
            "max_upload_bytes": settings.GLMWEB_MAX_UPLOAD_BYTES,
            "max_attachments": settings.GLMWEB_MAX_ATTACHMENTS_PER_MESSAGE,
        },
        "urls": page_urls(),
    }


@ensure_csrf_cookie
def index(request: HttpRequest) -> HttpResponse:
    """The chat page with no conversation open; visitors get the about page."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    page = page_data(cast(AuthenticatedRequest, request), None)
    return render(request, "chat/index.html", {"page_data": page})


@login_required
@ensure_csrf_cookie
def conversation_page(
    request: AuthenticatedRequest, conversation_id: UUID
) -> HttpResponse:
    """The chat page with one of the user's conversations open (404 otherwise)."""
    conversations.get_owned_conversation(request.user, conversation_id)
    return render(
        request,
        "chat/index.html",
        {"page_data": page_data(request, conversation_id)},
    )


# --- Conversations API ----------------------------------------------------------------


def _detail(conversation: Any) -> dict[str, Any]:
    language = get_language() or "zh-hans"
    return {
        "conversation": conversation_dict(conversation),
        "messages": [
            message_dict(message, language)
            for message in conversations.visible_messages(conversation)
        ],
        "summaries": [
            summary_dict(summary)
            for summary in conversations.active_summaries(conversation)
        ],
    }


@api("GET", "POST")
def api_conversations(request: ApiRequest) -> HttpResponse:
    """GET: a page of the sidebar (?q= searches titles and message text, ?archived=1,
    ?cursor= the previous page's next_cursor).
    POST: create a conversation from optional settings."""
    if request.method == "GET":
        archived = request.GET.get("archived", "0").lower() in {"1", "true", "yes"}
        try:
            page = conversations.list_conversations(
                request.user,
                query=request.GET.get("q", ""),
                archived=archived,
                cursor=request.GET.get("cursor", ""),
            )
        except conversations.InvalidCursor:
            return error_response(
                400, "invalid_cursor", _("This list cannot be continued; reload it.")
            )
        rows = []
        for hit in page.hits:
            row: dict[str, Any] = dict(conversation_dict(hit.conversation))
            if hit.snippet is not None:
                row["snippet"] = hit.snippet
            rows.append(row)
        return _ok({"conversations": rows, "next_cursor": page.next_cursor})
    form = ConversationForm(request.data, partial=True)
    if not form.is_valid():
        return _invalid(form)
    conversation = conversations.create_conversation(
        request.user, **form.cleaned_changes()
    )
    return _ok({"conversation": conversation_dict(conversation)}, status=201)


@api("GET", "PATCH", "DELETE")
def api_conversation(request: ApiRequest, conversation_id: UUID) -> HttpResponse:
    """GET: the conversation, its visible messages and summaries (constant queries).
    PATCH: change title/pinned/archived/settings. DELETE: soft delete (undoable)."""
    conversation = conversations.get_owned_conversation(request.user, conversation_id)
    if request.method == "GET":
        return _ok(_detail(conversation))
    if request.method == "DELETE":
        conversations.delete_conversation(conversation)
        return _ok({"conversation": conversation_dict(conversation), "undo": True})
    form = ConversationForm(request.data, partial=True, conversation=conversation)
    if not form.is_valid():
        return _invalid(form)
    conversations.update_conversation(conversation, **form.cleaned_changes())
    return _ok({"conversation": conversation_dict(conversation)})


def _int_param(request: ApiRequest, name: str) -> int | None:
    text = request.GET.get(name, "")
    return int(text) if text.isdigit() else None


@api("GET")
def api_conversation_messages(
    request: ApiRequest, conversation_id: UUID
) -> HttpResponse:
    """GET: a page of visible messages, oldest first, before message ?before= (the
    newest page without it), ?limit= of them (chat.message_pages)."""
    conversation = conversations.get_owned_conversation(request.user, conversation_id)
    before = _int_param(request, "before")
    limit = _int_param(request, "limit") or message_pages.PAGE_SIZE
    if request.GET.get("before") and before is None:
        return error_response(
            400, "invalid_cursor", _("These messages cannot be loaded; reload.")
        )
    page = message_pages.page_before(conversation, before, limit)
    language = get_language() or "zh-hans"
    return _ok(
        {
            "messages": [message_dict(m, language) for m in page.messages],
            "has_more": page.has_more,
        }
    )


@api("POST", json_body=False)
def api_conversation_restore(
    request: ApiRequest, conversation_id: UUID
) -> HttpResponse:
    """Undo a delete."""
    conversation = conversations.get_owned_conversation(
        request.user, conversation_id, deleted=True
    )
    conversations.restore_conversation(conversation)
    return _ok({"conversation": conversation_dict(conversation)})


def _download(body: str, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    return response


@api("GET")
def api_export_markdown(request: ApiRequest, conversation_id: UUID) -> HttpResponse:
    """Download the visible conversation as Markdown."""
    conversation = conversations.get_owned_conversation(request.user, conversation_id)
    return _download(
        exports.to_markdown(conversation),
        "text/markdown; charset=utf-8",
        exports.filename(conversation, "md"),
    )


@api("GET")
def api_export_json(request: ApiRequest, conversation_id: UUID) -> HttpResponse:
    """Download the whole conversation (hidden turns and summaries too) as JSON."""
    conversation = conversations.get_owned_conversation(request.user, conversation_id)
    body = json.dumps(exports.to_json(conversation), ensure_ascii=False, indent=2)
    return _download(
        body, "application/json; charset=utf-8", exports.filename(conversation, "json")
    )


# --- Presets and models ---------------------------------------------------------------


def _name_taken(form: PresetForm) -> JsonResponse:
    form.add_error("name", _("You already have a preset with this name."))
    return _invalid(form)


@api("GET", "POST")
def api_presets(request: ApiRequest) -> HttpResponse:
    """GET: built-in and own presets. POST {name, system_prompt}: a new own preset."""
    if request.method == "GET":
        return _ok(presets.all_presets(request.user))
    form = PresetForm(request.data)
    if not form.is_valid():
        return _invalid(form)
    try:
        preset = presets.create_preset(request.user, **form.cleaned_changes())
    except presets.PresetNameTakenError:
        return _name_taken(form)
    return _ok({"preset": presets.preset_dict(preset)}, status=201)


@api("PATCH", "DELETE")
def api_preset(request: ApiRequest, preset_id: int) -> HttpResponse:
    """PATCH {name?, system_prompt?} or DELETE one of the user's own presets."""
    preset = presets.get_own_preset(request.user, preset_id)
    if request.method == "DELETE":
        presets.delete_preset(preset)
        return _ok({"deleted": True})
    form = PresetForm(request.data, partial=True)
    if not form.is_valid():
        return _invalid(form)
    try:
        presets.update_preset(preset, **form.cleaned_changes())
    except presets.PresetNameTakenError:
        return _name_taken(form)
    return _ok({"preset": presets.preset_dict(preset)})


@api("GET")
def api_models(request: ApiRequest) -> HttpResponse:
    """The model catalog and the default model."""
    return _ok({"models": catalog.catalog(), "default_model": catalog.default_model()})
