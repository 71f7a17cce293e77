"""Conversation services: ownership, defaults, recency, purge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from chat import conversation_settings, conversations
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


@pytest.mark.django_db
def test_settings_change_is_written_once_and_does_not_move_the_conversation(
    user, make_conversation, django_assert_num_queries
):
    conversation = make_conversation(user, model="glm-4.6", thinking=True)
    before = Conversation.objects.get(pk=conversation.pk).updated_at
    with django_assert_num_queries(1):
        changed = conversation_settings.apply_settings(
            conversation, {"model": "glm-4-air", "temperature": 0.3}
        )
    assert changed == ["model", "temperature", "thinking"]
    saved = Conversation.objects.get(pk=conversation.pk)
    assert (saved.model, saved.temperature, saved.thinking) == ("glm-4-air", 0.3, False)
    assert saved.updated_at == before
    with django_assert_num_queries(0):
        assert conversation_settings.apply_settings(conversation, {"top_p": None}) == []


@pytest.mark.django_db
def test_create_takes_the_settings_defaults(user, settings):
    settings.ZHIPUAI_CHAT_MODEL = "glm-4-air"
    conversation = conversations.create_conversation(user, pinned=True)
    assert conversation.pinned
    assert {
        name: getattr(conversation, name) for name in conversation_settings.FIELDS
    } == conversation_settings.defaults()
    assert conversation.model == "glm-4-air"
