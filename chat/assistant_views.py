"""The Agents page: the platform's assistants, and starting a conversation with one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_POST

from chat import assistants
from glmweb import zhipu
from glmweb.accounts.requests import AuthenticatedRequest


@login_required
@require_GET
def index(request: AuthenticatedRequest) -> HttpResponse:
    """List the agents the platform offers (or say why they cannot be listed)."""
    error = ""
    try:
        listed = assistants.listing()
    except zhipu.GLMError as exc:
        listed = []
        error = exc.user_message(get_language() or "zh-hans")
    return render(
        request, "chat/assistants.html", {"assistants": listed, "error": error}
    )


@login_required
@require_POST
def start(request: AuthenticatedRequest, assistant_id: str) -> HttpResponse:
    """Open a new conversation with a listed agent."""
    try:
        assistant = assistants.find(assistant_id)
    except zhipu.GLMError as exc:
        messages.error(request, exc.user_message(get_language() or "zh-hans"))
        return redirect("chat:assistants")
    if assistant is None:
        raise Http404
    conversation = assistants.start_conversation(request.user, assistant)
    return redirect("chat:conversation", conversation.pk)
