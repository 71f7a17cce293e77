"""Character pages (server-rendered, like the video pages) and the greeting API.

Every view loads characters through chat.characters.access: another user's private
(or hidden) character is a 404, exactly like one that does not exist; a shared one
may be seen, chatted with, exported and duplicated by everyone, edited and deleted
only by its owner (a 404 for anyone else).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from chat import conversations
from chat.characters import access, cards, services
from chat.characters.forms import (
    CardImportForm,
    CharacterForm,
    PersonaForm,
    StartChatForm,
)
from chat.characters.models import Character, Persona
from chat.serializers import conversation_dict, message_dict
from chat.views import ApiRequest, api, error_response
from glmweb import images
from glmweb.accounts.requests import AuthenticatedRequest

# The gallery shows at most this many characters (search narrows it down).
GALLERY_LIMIT = 500
SCAN_LIMIT = 5000


def _language() -> str:
    return get_language() or "zh-hans"


def _matches(character: Character, query: str, tag: str) -> bool:
    tags = [str(t).lower() for t in character.tags or []]
    if tag and tag.lower() not in tags:
        return False
    if not query:
        return True
    wanted = query.lower()
    return wanted in character.name.lower() or any(wanted in t for t in tags)


@login_required
def gallery(request: AuthenticatedRequest) -> HttpResponse:
    """The user's own characters and the shared ones; ?q= searches names and tags,
    ?tag= keeps one tag."""
    query = request.GET.get("q", "").strip()
    tag = request.GET.get("tag", "").strip()
    rows = access.visible_characters(request.user).select_related("owner")
    # Tags are a JSON list, stored ASCII-escaped: matched here, on every engine.
    found = [c for c in rows[:SCAN_LIMIT] if _matches(c, query, tag)][:GALLERY_LIMIT]
    return render(
        request,
        "characters/gallery.html",
        {
            "own": [c for c in found if c.owner_id == request.user.pk],
            "shared": [c for c in found if c.owner_id != request.user.pk],
            "query": query,
            "tag": tag,
        },
    )


def _form_page(
    request: AuthenticatedRequest, form: CharacterForm, character: Character | None
) -> HttpResponse:
    return render(
        request,
        "characters/form.html",
        {"form": form, "character": character},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def create(request: AuthenticatedRequest) -> HttpResponse:
    """A new character."""
    if request.method == "POST":
        form = CharacterForm(request.POST, request.FILES)
        if form.is_valid():
            character = services.create_character(
                request.user, form.character_fields(), form.avatar
            )
            messages.success(request, _("The character was created."))
            return redirect("characters:detail", character.pk)
    else:
        form = CharacterForm()
    return _form_page(request, form, None)


@login_required
def detail(request: AuthenticatedRequest, character_id: UUID) -> HttpResponse:
    """A character: its card, the start-chat form, and the owner's buttons."""
    character = access.get_visible_character(request.user, character_id)
    return render(
        request,
        "characters/detail.html",
        {
            "character": character,
            "is_owner": character.owner_id == request.user.pk,
            "start_form": StartChatForm(owner=request.user),
            "greetings": character.greetings(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: AuthenticatedRequest, character_id: UUID) -> HttpResponse:
    """Change one of the user's own characters."""
    character = access.get_own_character(request.user, character_id)
    if request.method == "POST":
        form = CharacterForm(request.POST, request.FILES, instance=character)
        if form.is_valid():
            services.update_character(
                character,
                form.character_fields(),
                form.avatar,
                remove_avatar=bool(form.cleaned_data.get("remove_avatar")),
            )
            messages.success(request, _("The character was saved."))
            return redirect("characters:detail", character.pk)
        # The form's instance took the refused values: show them, store nothing.
    else:
        form = CharacterForm(instance=character)
    return _form_page(request, form, character)


@login_required
@require_POST
def duplicate(request: AuthenticatedRequest, character_id: UUID) -> HttpResponse:
    """A private copy, owned by the user, of a character they may see."""
    character = access.get_visible_character(request.user, character_id)
    copy = services.duplicate_character(character, request.user)
    messages.success(request, _("This is your copy; change it as you like."))
    return redirect("characters:edit", copy.pk)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: AuthenticatedRequest, character_id: UUID) -> HttpResponse:
    """Confirm, then delete one of the user's own characters (chats stay)."""
    character = access.get_own_character(request.user, character_id)
    if request.method == "POST":
        services.delete_character(character)
        messages.success(request, _("The character was deleted."))
        return redirect("characters:gallery")
    return render(request, "characters/delete.html", {"character": character})


@login_required
@require_POST
def start_chat(request: AuthenticatedRequest, character_id: UUID) -> HttpResponse:
    """Open a new conversation with the character, as the chosen persona."""
    character = access.get_visible_character(request.user, character_id)
    form = StartChatForm(request.POST, owner=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose one of your personas."))
        return redirect("characters:detail", character.pk)
    conversation = services.start_chat(
        request.user, character, form.cleaned_data.get("persona")
    )
    return redirect("chat:conversation", conversation.pk)


@login_required
@require_http_methods(["GET", "POST"])
def import_card(request: AuthenticatedRequest) -> HttpResponse:
    """Import a Character Card (JSON or PNG) as a new private character."""
    status = 200
    if request.method == "POST":
        form = CardImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                character = services.import_card(
                    request.user, form.cleaned_data["card"]
                )
            except cards.CardRejectedError as exc:
                form.add_error("card", exc.user_message(_language()))
            except images.ImageRejectedError as exc:
                form.add_error(
                    "card",
                    _("The card's picture was refused: %(reason)s")
                    % {"reason": exc.user_message(_language())},
                )
            else:
                messages.success(request, _("The card was imported."))
                return redirect("characters:detail", character.pk)
        status = 400
    else:
        form = CardImportForm()
    return render(request, "characters/import.html", {"form": form}, status=status)


def _file_name(character: Character, extension: str) -> str:
    stem = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", "_", character.name).strip(" ._")
    return f"{stem or 'character'}.{extension}"


def _download(body: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    response["X-Content-Type-Options"] = "nosniff"
    return response


# The card files a character exports to, by the kind its URL names.
CARD_CONTENT_TYPES = {"json": "application/json; charset=utf-8", "png": "image/png"}


@login_required
def export_card(
    request: AuthenticatedRequest, character_id: UUID, kind: str
) -> HttpResponse:
    """The character as a Character Card V2 file: JSON, or a PNG card (its avatar
    with the V2 card in `chara`)."""
    character = access.get_visible_character(request.user, character_id)
    if kind == "png":
        body = cards.card_png_bytes(character, services.read_avatar(character))
    else:
        body = cards.card_json_bytes(character)
    return _download(body, CARD_CONTENT_TYPES[kind], _file_name(character, kind))


@login_required
def avatar(request: AuthenticatedRequest, character_id: UUID) -> HttpResponse:
    """The avatar, to whoever may see the character (404 otherwise, or without one)."""
    character = access.get_visible_character(request.user, character_id)
    data = services.read_avatar(character)
    if data is None:
        raise Http404("No avatar")
    # Stored avatars are only ever what glmweb/images.py wrote: PNG or JPEG.
    png = character.avatar.name.endswith(".png")
    response = HttpResponse(data, content_type="image/png" if png else "image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    # A generated name with the stored type's extension, and no document rights even
    # if opened on its own (the bytes are re-encoded pixels; this is the second wall).
    response["Content-Disposition"] = (
        content_disposition_header(False, "avatar.png" if png else "avatar.jpg") or ""
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- personas


def _persona_page(
    request: AuthenticatedRequest,
    form: PersonaForm,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """Save a valid persona form and go back to the list, saying so; else show
    `template` with the form (a refused one as a 400)."""
    if request.method == "POST" and form.is_valid():
        services.save_persona(form.instance)
        messages.success(request, _("The persona was saved."))
        return redirect("characters:personas")
    return render(
        request,
        template,
        {"form": form, **context},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def personas(request: AuthenticatedRequest) -> HttpResponse:
    """The user's personas and a form for a new one."""
    form = PersonaForm(request.POST or None, instance=Persona(owner=request.user))
    mine = Persona.objects.filter(owner=request.user)
    return _persona_page(request, form, "characters/personas.html", {"personas": mine})


@login_required
@require_http_methods(["GET", "POST"])
def persona_edit(request: AuthenticatedRequest, persona_id: int) -> HttpResponse:
    """Change one of the user's personas."""
    persona = access.get_own_persona(request.user, persona_id)
    form = PersonaForm(request.POST or None, instance=persona)
    context = {"persona": persona}
    return _persona_page(request, form, "characters/persona_form.html", context)


@login_required
@require_POST
def persona_delete(request: AuthenticatedRequest, persona_id: int) -> HttpResponse:
    """Delete one of the user's personas (conversations keep going without it)."""
    access.get_own_persona(request.user, persona_id).delete()
    messages.success(request, _("The persona was deleted."))
    return redirect("characters:personas")


# --- the chat page's greeting switcher


@api("POST")
def api_greeting(request: ApiRequest, conversation_id: UUID) -> HttpResponse:
    """POST {"index"}: open the conversation with the character's greeting `index`
    instead (only before the user's first message). Answers {conversation, message}."""
    conversation = conversations.get_owned_conversation(request.user, conversation_id)
    index: Any = request.data.get("index")
    if isinstance(index, bool) or not isinstance(index, int):
        return error_response(
            400,
            "invalid",
            _("Choose a greeting."),
            {"index": [_("Choose a greeting.")]},
        )
    try:
        choice = services.choose_greeting(conversation, index)
    except services.GreetingRefusedError:
        return error_response(
            409,
            "greeting_locked",
            _("The greeting can only be changed before your first message."),
        )
    return JsonResponse(
        {
            "conversation": conversation_dict(choice.conversation),
            "message": message_dict(choice.message, _language()),
        },
        json_dumps_params={"ensure_ascii": False},
    )
