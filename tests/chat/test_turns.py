"""chat.turns: idempotent, one reply at a time, supersede instead of delete."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone, translation

from chat import turns
from chat.models import Conversation, Message, Persona, Summary


@pytest.fixture
def conversation(user, make_conversation):
    return make_conversation(user)


def finish(turn, content="done"):
    return turns.finish_reply(
        turn.assistant,
        turns.ReplyOutcome(status=Message.Status.COMPLETE, content=content),
    )


def test_send_message_saves_the_user_message_and_a_streaming_reply(user, conversation):
    client_id = uuid.uuid4()
    turn = turns.send_message(str(conversation.pk), user.pk, client_id, "Hi")
    assert turn.created
    assert (turn.user.role, turn.user.content, turn.user.client_id) == (
        "user",
        "Hi",
        client_id,
    )
    assert turn.assistant.status == Message.Status.STREAMING
    assert turn.assistant.model == conversation.model
    assert turn.reply_to_id == turn.user.pk


def test_send_message_with_a_known_client_id_returns_the_same_turn(user, conversation):
    client_id = uuid.uuid4()
    first = turns.send_message(str(conversation.pk), user.pk, client_id, "Hi")
    finish(first)
    again = turns.send_message(str(conversation.pk), user.pk, client_id, "Hi")
    assert not again.created
    assert again.user.pk == first.user.pk
    assert again.assistant.pk == first.assistant.pk
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_send_message_while_a_reply_streams_is_busy(user, conversation):
    first = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "One")
    with pytest.raises(turns.TurnRefused) as refused:
        turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Two")
    assert refused.value.code == "busy"
    assert refused.value.message_id == first.assistant.pk


def test_send_message_saves_changed_options(user, conversation):
    turn = turns.send_message(
        str(conversation.pk),
        user.pk,
        uuid.uuid4(),
        "Hi",
        {"model": "glm-4.6", "temperature": 0.2, "thinking": True},
    )
    assert turn.settings_changed
    conversation.refresh_from_db()
    assert (conversation.model, conversation.temperature, conversation.thinking) == (
        "glm-4.6",
        0.2,
        True,
    )
    assert turn.assistant.model == "glm-4.6"


def test_send_message_to_another_users_conversation_is_not_found(
    other_user, conversation
):
    with pytest.raises(turns.TurnRefused) as refused:
        turns.send_message(str(conversation.pk), other_user.pk, uuid.uuid4(), "Hi")
    assert refused.value.code == "not_found"
    assert not Message.objects.exists()


def test_regenerate_supersedes_the_last_reply_only(user, conversation):
    turn = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Hi")
    finish(turn)
    client_id = uuid.uuid4()
    again = turns.regenerate_reply(str(conversation.pk), user.pk, client_id)
    assert again.superseded == [turn.assistant.pk]
    assert again.user is None and again.reply_to_id == turn.user.pk
    assert again.assistant.client_id == client_id
    turn.assistant.refresh_from_db()
    assert turn.assistant.superseded and turn.assistant.content == "done"
    # Idempotent too.
    finish(again)
    repeat = turns.regenerate_reply(str(conversation.pk), user.pk, client_id)
    assert not repeat.created and repeat.assistant.pk == again.assistant.pk


def test_regenerate_an_empty_conversation_is_not_found(user, conversation):
    with pytest.raises(turns.TurnRefused) as refused:
        turns.regenerate_reply(str(conversation.pk), user.pk, uuid.uuid4())
    assert refused.value.code == "not_found"


def test_edit_supersedes_from_the_message_on_and_drops_their_summaries(
    user, conversation
):
    first = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "One")
    finish(first)
    second = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Two")
    finish(second)
    kept = Summary.objects.create(
        conversation=conversation, content="s1", covers_until=first.user
    )
    dropped = Summary.objects.create(
        conversation=conversation, content="s2", covers_until=second.assistant
    )
    edit = turns.edit_message(
        str(conversation.pk), user.pk, second.user.pk, uuid.uuid4(), "Two, edited"
    )
    assert sorted(edit.superseded) == [second.user.pk, second.assistant.pk]
    visible = list(
        Message.objects.filter(conversation=conversation, superseded=False)
        .order_by("id")
        .values_list("content", flat=True)
    )
    assert visible == ["One", "done", "Two, edited", ""]
    assert Summary.objects.filter(pk=kept.pk).exists()
    assert not Summary.objects.filter(pk=dropped.pk).exists()


def test_edit_of_an_assistant_message_is_not_found(user, conversation):
    turn = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "One")
    finish(turn)
    with pytest.raises(turns.TurnRefused) as refused:
        turns.edit_message(
            str(conversation.pk), user.pk, turn.assistant.pk, uuid.uuid4(), "x"
        )
    assert refused.value.code == "not_found"


def test_finish_reply_only_finishes_a_streaming_reply(user, conversation):
    turn = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Hi")
    assert finish(turn, "first") is not None
    assert finish(turn, "second") is None
    turn.assistant.refresh_from_db()
    assert turn.assistant.content == "first"
    assert turn.assistant.finished_at is not None


def test_finish_reply_saves_every_field_as_it_reads_back(user, conversation):
    turn = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Hi")
    outcome = turns.ReplyOutcome(
        status=Message.Status.ERROR,
        content="部分 text",
        reasoning="想一想",
        web_search=[{"title": "标题", "link": "https://example.com/a", "n": 1}],
        tool_calls=[{"id": "call_1", "function": {"name": "f", "arguments": "{}"}}],
        error_code="upstream_error",
        error_upstream_code="1301",
        error_message="x" * 2100,
        error_detail="detail",
        prompt_tokens=12,
        completion_tokens=34,
        reasoning_tokens=5,
        finish_reason="sensitive" * 5,
        request_id="r" * 200,
        seen_attachments=[3, 4],
    )
    returned = turns.finish_reply(turn.assistant, outcome)
    saved = Message.objects.get(pk=turn.assistant.pk)
    for name in (
        "status",
        "content",
        "reasoning",
        "web_search",
        "tool_calls",
        "error_code",
        "error_upstream_code",
        "error_message",
        "error_detail",
        "prompt_tokens",
        "completion_tokens",
        "reasoning_tokens",
        "finish_reason",
        "request_id",
        "seen_attachments",
        "finished_at",
        "updated_at",
    ):
        assert getattr(saved, name) == getattr(returned, name), name
    assert (len(saved.error_message), len(saved.finish_reason)) == (2000, 32)
    assert len(saved.request_id) == 128
    assert saved.web_search[0]["title"] == "标题"


def test_interrupt_orphan_keeps_the_checkpoint_text(user, conversation):
    turn = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Hi")
    message = turns.interrupt_orphan(turn.assistant.pk, "partial", "", [])
    assert message.status == Message.Status.INTERRUPTED
    assert (message.content, message.error_code) == ("partial", "server_restarted")
    assert turns.interrupt_orphan(turn.assistant.pk, "other", "", []) is None


def test_send_message_checks_options_against_the_conversations_model(
    user, make_conversation
):
    # max_tokens within the catalog's largest ceiling but above this model's: only
    # the turn, which knows the conversation's model, can refuse it.
    conversation = make_conversation(user, model="glm-4v-flash")
    with pytest.raises(turns.TurnRefused) as refused:
        turns.send_message(
            str(conversation.pk), user.pk, uuid.uuid4(), "Hi", {"max_tokens": 2000}
        )
    assert (refused.value.code, refused.value.field) == (
        "invalid",
        "options.max_tokens",
    )
    with translation.override("en"):
        assert refused.value.reason.messages == [
            "GLM-4V-Flash writes at most 1024 tokens per reply."
        ]
    conversation.refresh_from_db()
    assert conversation.max_tokens is None
    assert not Message.objects.filter(conversation=conversation).exists()


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.fields}


def test_send_message_loads_the_conversation_character_and_persona_as_the_orm_does(
    user, make_conversation, make_character, django_assert_num_queries
):
    character = make_character(user, personality="Warm.")
    persona = Persona.objects.create(owner=user, name="Ana", description="A guest.")
    conversation = make_conversation(
        user, character=character, persona=persona, model="charglm-4", top_p=0.5
    )
    turn = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Hi")
    expected = Conversation.objects.get(pk=conversation.pk)
    assert _fields(turn.conversation) == _fields(expected)
    with django_assert_num_queries(0):  # loaded with it, as select_related does
        assert _fields(turn.conversation.character) == _fields(expected.character)
        assert _fields(turn.conversation.persona) == _fields(expected.persona)
    plain = make_conversation(user)
    turn = turns.send_message(str(plain.pk), user.pk, uuid.uuid4(), "Hi")
    with django_assert_num_queries(0):
        assert turn.conversation.character is None
        assert turn.conversation.persona is None


def test_send_message_saves_messages_that_read_back_the_same(user, conversation):
    turn = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Hi 你好")
    for saved in (turn.user, turn.assistant):
        assert _fields(saved) == _fields(Message.objects.get(pk=saved.pk))
    assert turn.assistant.reply_to_id == turn.user.pk
    conversation.refresh_from_db()
    assert conversation.updated_at == turn.conversation.updated_at


def test_send_message_to_a_deleted_or_malformed_conversation_is_not_found(
    user, conversation
):
    for conversation_id in ("not-a-uuid", str(uuid.uuid4())):
        with pytest.raises(turns.TurnRefused) as refused:
            turns.send_message(conversation_id, user.pk, uuid.uuid4(), "Hi")
        assert refused.value.code == "not_found"
    conversation.deleted_at = timezone.now()
    conversation.save()
    with pytest.raises(turns.TurnRefused) as refused:
        turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Hi")
    assert refused.value.code == "not_found"
    assert not Message.objects.exists()


def test_only_a_conversations_first_message_carries_its_history(user, conversation):
    first = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "One")
    assert first.history == [first.user]
    finish(first)
    second = turns.send_message(str(conversation.pk), user.pk, uuid.uuid4(), "Two")
    assert second.history is None  # earlier messages: the context reads them


@pytest.mark.django_db(transaction=True)
async def test_sends_at_once_start_one_reply_and_the_rest_are_busy(
    user, make_conversation
):
    # Through the async face: on PostgreSQL the sends run in parallel in the pool,
    # and only the conversation's row lock keeps a second reply from starting.
    conversation = await sync_to_async(make_conversation)(user)
    results = await asyncio.gather(
        *(
            turns.asend_message(str(conversation.pk), user.pk, uuid.uuid4(), "Hi")
            for _ in range(8)
        ),
        return_exceptions=True,
    )
    started = [r for r in results if isinstance(r, turns.Turn)]
    refused = [r for r in results if isinstance(r, turns.TurnRefused)]
    assert len(started) == 1 and len(refused) == 7, results
    assert {r.code for r in refused} == {"busy"}
    assert {r.message_id for r in refused} == {started[0].assistant.pk}
    count = await Message.objects.filter(conversation=conversation).acount()
    assert count == 2


@pytest.mark.django_db(transaction=True)
async def test_the_same_send_at_once_saves_one_turn(user, make_conversation):
    conversation = await sync_to_async(make_conversation)(user)
    client_id = uuid.uuid4()
    results = await asyncio.gather(
        *(
            turns.asend_message(str(conversation.pk), user.pk, client_id, "Hi")
            for _ in range(4)
        )
    )
    assert [r.created for r in results].count(True) == 1
    assert {r.user.pk for r in results} == {results[0].user.pk}
    assert {r.assistant.pk for r in results} == {results[0].assistant.pk}
