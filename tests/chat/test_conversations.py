"""Conversation services: ownership, defaults, recency, purge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from chat import conversations
from chat.models import Conversation


@pytest.mark.django_db
def test_get_owned_refuses_other_users_and_deleted(user, other_user, make_conversation):
    mine = make_conversation(user)
    theirs = make_conversation(other_user)
    assert conversations.get_owned_conversation(user, mine.pk) == mine
    with pytest.raises(Http404):
        conversations.get_owned_conversation(user, theirs.pk)
    conversations.delete_conversation(mine)
    with pytest.raises(Http404):
        conversations.get_owned_conversation(user, mine.pk)
    assert conversations.get_owned_conversation(user, mine.pk, deleted=True) == mine


@pytest.mark.django_db
def test_create_with_a_title_is_not_auto_titled(user):
    conversation = conversations.create_conversation(user, title="Named")
    assert conversation.title == "Named" and not conversation.title_is_auto
    assert conversation.model == "glm-4-flash"


@pytest.mark.django_db
def test_create_turns_off_flags_the_model_lacks(user):
    conversation = conversations.create_conversation(
        user, model="glm-4v-flash", web_search=True, thinking=True
    )
    assert not conversation.web_search and not conversation.thinking


@pytest.mark.django_db
def test_purge_removes_only_long_deleted(user, make_conversation):
    old = make_conversation(user)
    recent = make_conversation(user)
    live = make_conversation(user)
    Conversation.objects.filter(pk=old.pk).update(
        deleted_at=timezone.now() - timedelta(days=31)
    )
    conversations.delete_conversation(recent)
    assert conversations.purge_deleted_conversations() == 1
    assert set(Conversation.objects.values_list("pk", flat=True)) == {
        recent.pk,
        live.pk,
    }


@pytest.mark.django_db
def test_purge_task_deletes_only_conversations_deleted_past_the_retention(
    user, settings
):
    from chat import tasks

    settings.GLMWEB_DELETED_RETENTION_DAYS = 30
    old = Conversation.objects.create(owner=user, model="glm-4-flash")
    recent = Conversation.objects.create(owner=user, model="glm-4-flash")
    kept = Conversation.objects.create(owner=user, model="glm-4-flash")
    Conversation.objects.filter(pk=old.pk).update(
        deleted_at=timezone.now() - timedelta(days=31)
    )
    Conversation.objects.filter(pk=recent.pk).update(
        deleted_at=timezone.now() - timedelta(days=29)
    )
    # The task's body, as the worker runs it (beat sends it once an hour).
    assert tasks.purge_deleted_conversations.run() == 1
    assert set(Conversation.objects.values_list("pk", flat=True)) == {
        recent.pk,
        kept.pk,
    }
