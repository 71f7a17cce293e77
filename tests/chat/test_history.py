"""The history sent with a reply: budget, summaries, fallbacks (on the simulator)."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import sync_to_async
from django.db.backends import utils as db_utils

from chat import history, summaries, tokens, turns
from chat.models import Message, Summary
from glmweb import zhipu

pytestmark = pytest.mark.django_db(transaction=True)

TINY_MODEL = {
    "code": "glm-4-flash",
    "label": "Tiny",
    "context": 400,
    "max_output": 50,
    "capabilities": ["text"],
}
SUMMARY_MODEL = {"code": "glm-4-air", "label": "Air", "context": 128000}


@pytest.fixture
def chat_settings(glm_settings):
    glm_settings.GLMWEB_SUMMARY_EVERY_ROUNDS = 4
    glm_settings.GLMWEB_SUMMARY_KEEP_ROUNDS = 2
    glm_settings.GLMWEB_SUMMARY_MAX_TOKENS = 64
    glm_settings.GLMWEB_CONTEXT_MAX_TOKENS = 0
    return glm_settings


async def _ask(conversation, text: str) -> Message:
    return await Message.objects.acreate(
        conversation=conversation, role=Message.Role.USER, content=text
    )


def test_token_estimate_errs_high():
    assert tokens.estimate("你好世界") == 4
    assert tokens.estimate("abcdef") == 2
    assert tokens.estimate("abcdefg") == 3
    assert tokens.estimate("") == 0
    assert tokens.estimate_message("hi") == 1 + tokens.PER_MESSAGE


async def test_short_history_is_sent_whole_without_a_summary_call(
    chat_settings, chat_requests, user, make_conversation, add_turns
):
    conversation = await sync_to_async(make_conversation)(
        user, system_prompt="Be brief."
    )
    await sync_to_async(add_turns)(conversation, [("one", "uno")])
    failed = await _ask(conversation, "two")
    await Message.objects.acreate(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.ERROR,
        content="",
        error_code="server_error",
    )
    hidden = await sync_to_async(add_turns)(conversation, [("old three", "old tres")])
    await Message.objects.filter(pk__in=[m.pk for m in hidden]).aupdate(superseded=True)
    stopped = await sync_to_async(add_turns)(conversation, [("three", None)])
    await Message.objects.acreate(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STOPPED,
        content="tr",
    )
    question = await _ask(conversation, "four")
    await Message.objects.acreate(  # the placeholder of the reply being generated
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
        content="",
    )

    context = await history.aprepare_context(
        conversation.pk, until_message_id=question.pk
    )

    assert context.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "uno"},
        {"role": "user", "content": failed.content},
        {"role": "user", "content": stopped[0].content},
        {"role": "assistant", "content": "tr"},
        {"role": "user", "content": "four"},
    ]
    assert context.summary is None and context.omitted == 0
    assert chat_requests() == []
    # What it prepares is a request the platform accepts, sent as it is.
    await zhipu.achat(context.messages, model="glm-4-flash")
    assert chat_requests()[-1]["messages"] == context.messages


async def test_every_fourth_round_older_turns_are_summarised(
    chat_settings, chat_requests, user, make_conversation, add_turns
):
    conversation = await sync_to_async(make_conversation)(
        user, system_prompt="Be brief."
    )
    turns = await sync_to_async(add_turns)(
        conversation, [(f"question {i}", f"answer {i}") for i in range(6)]
    )
    question = await _ask(conversation, "question 6")

    context = await history.aprepare_context(
        conversation.pk, until_message_id=question.pk
    )

    (summary_call,) = chat_requests()
    assert summary_call["model"] == "glm-4-flash"
    assert summary_call["max_tokens"] == 64
    assert "stream" not in summary_call or summary_call["stream"] is False
    assert summary_call["messages"][0] == {
        "role": "system",
        "content": summaries.SUMMARY_INSTRUCTIONS,
    }
    transcript = summary_call["messages"][1]["content"]
    assert transcript == "Conversation:\n\n" + "\n\n".join(
        f"User: question {i}\n\nAssistant: answer {i}" for i in range(4)
    )
    saved = await Summary.objects.aget(conversation=conversation)
    assert context.summary == saved
    assert saved.covers_until_id == turns[7].pk  # "answer 3"
    assert saved.covered_messages == 8
    assert saved.content.startswith("Here is a sample answer")  # the simulator's reply
    assert context.messages == [
        {
            "role": "system",
            "content": f"Be brief.\n\n{history.SUMMARY_HEADER}\n\n{saved.content}",
        },
        {"role": "user", "content": "question 4"},
        {"role": "assistant", "content": "answer 4"},
        {"role": "user", "content": "question 5"},
        {"role": "assistant", "content": "answer 5"},
        {"role": "user", "content": "question 6"},
    ]
    await zhipu.achat(context.messages, model="glm-4-flash")
    assert chat_requests()[-1]["messages"] == context.messages


async def test_summary_is_reused_until_the_next_one_is_due(
    chat_settings, chat_requests, user, make_conversation, add_turns
):
    conversation = await sync_to_async(make_conversation)(user)
    turns = await sync_to_async(add_turns)(
        conversation, [(f"q{i}", f"a{i}") for i in range(8)]
    )
    previous = await Summary.objects.acreate(
        conversation=conversation,
        content="They counted.",
        covers_until=turns[7],
        covered_messages=8,
    )
    question = await _ask(conversation, "q8")

    context = await history.aprepare_context(
        conversation.pk, until_message_id=question.pk
    )

    assert chat_requests() == []  # 4 rounds since the summary: not yet 4 + 2
    assert context.summary is None
    assert context.messages[0] == {
        "role": "system",
        "content": f"{history.SUMMARY_HEADER}\n\nThey counted.",
    }
    assert [m["content"] for m in context.messages[1:]] == [
        "q4", "a4", "q5", "a5", "q6", "a6", "q7", "a7", "q8",
    ]  # fmt: skip

    await Message.objects.acreate(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.COMPLETE,
        content="a8",
    )
    await sync_to_async(add_turns)(conversation, [("q9", "a9")])
    question = await _ask(conversation, "q10")
    context = await history.aprepare_context(
        conversation.pk, until_message_id=question.pk
    )
    (summary_call,) = chat_requests()  # 6 rounds since the summary: due
    content = summary_call["messages"][1]["content"]
    assert content == (
        "Previous summary:\nThey counted.\n\nConversation:\n\n"
        + "\n\n".join(f"User: q{i}\n\nAssistant: a{i}" for i in range(4, 8))
    )
    assert context.summary.covered_messages == previous.covered_messages + 8
    assert [m["content"] for m in context.messages[1:]] == [
        "q8", "a8", "q9", "a9", "q10",
    ]  # fmt: skip


async def test_turns_that_no_longer_fit_are_summarised(
    chat_settings, chat_requests, user, make_conversation, add_turns
):
    chat_settings.CHAT_MODELS = [TINY_MODEL, SUMMARY_MODEL]
    chat_settings.GLMWEB_SUMMARY_MODEL = "glm-4-air"
    chat_settings.GLMWEB_SUMMARY_EVERY_ROUNDS = 0  # only when over budget
    conversation = await sync_to_async(make_conversation)(user)
    long_answer = "word " * 200  # about 334 estimated tokens
    await sync_to_async(add_turns)(
        conversation, [("first question", long_answer), ("second", "short")]
    )
    question = await _ask(conversation, "third")

    context = await history.aprepare_context(
        conversation.pk, until_message_id=question.pk
    )

    budget = history.input_budget(conversation)
    assert budget == 400 - 50
    (summary_call,) = chat_requests()
    assert summary_call["model"] == "glm-4-air"
    assert "User: first question" in summary_call["messages"][1]["content"]
    assert "User: second" not in summary_call["messages"][1]["content"]
    assert context.summary is not None
    assert [m["content"] for m in context.messages[1:]] == ["second", "short", "third"]
    assert context.estimated_tokens <= budget
    assert context.omitted == 0


async def test_failed_summary_falls_back_to_the_newest_turns_that_fit(
    chat_settings, chat_requests, user, make_conversation, add_turns
):
    chat_settings.CHAT_MODELS = [TINY_MODEL, SUMMARY_MODEL]
    chat_settings.GLMWEB_SUMMARY_MODEL = "glm-4-air"
    chat_settings.GLMWEB_SUMMARY_EVERY_ROUNDS = 0
    conversation = await sync_to_async(make_conversation)(
        user, system_prompt="Be brief."
    )
    # The summary call's transcript carries this directive in its last user message,
    # so the simulator fails that call with HTTP 500.
    await sync_to_async(add_turns)(
        conversation,
        [("old [[sim:status=500]]", "word " * 200), ("second", "short")],
    )
    question = await _ask(conversation, "third")

    context = await history.aprepare_context(
        conversation.pk, until_message_id=question.pk
    )

    assert len(chat_requests()) == 2  # the summary call and its one retry
    assert context.summary is None
    assert not await Summary.objects.filter(conversation=conversation).aexists()
    assert context.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "short"},
        {"role": "user", "content": "third"},
    ]
    assert context.omitted == 2
    assert context.estimated_tokens <= context.budget


async def test_summary_of_turns_hidden_by_an_edit_is_not_sent(
    chat_settings, chat_requests, user, make_conversation, add_turns
):
    conversation = await sync_to_async(make_conversation)(user)
    turns = await sync_to_async(add_turns)(conversation, [("q0", "a0"), ("q1", "a1")])
    await Summary.objects.acreate(
        conversation=conversation, content="stale", covers_until=turns[3]
    )
    await Message.objects.filter(pk__in=[turns[2].pk, turns[3].pk]).aupdate(
        superseded=True
    )
    question = await _ask(conversation, "q1 edited")

    context = await history.aprepare_context(
        conversation.pk, until_message_id=question.pk
    )

    assert [m["content"] for m in context.messages] == ["q0", "a0", "q1 edited"]


async def test_context_cap_setting_limits_the_history(
    chat_settings, chat_requests, user, make_conversation, add_turns
):
    chat_settings.GLMWEB_CONTEXT_MAX_TOKENS = 300
    chat_settings.GLMWEB_SUMMARY_EVERY_ROUNDS = 0
    conversation = await sync_to_async(make_conversation)(user)
    await sync_to_async(add_turns)(
        conversation, [(f"question {i} " * 20, f"answer {i}") for i in range(5)]
    )
    question = await _ask(conversation, "last")

    context = await history.aprepare_context(
        conversation.pk, until_message_id=question.pk
    )

    assert context.budget == 300
    assert context.summary is not None
    assert context.estimated_tokens <= 300
    assert context.messages[-1] == {"role": "user", "content": "last"}


async def test_unknown_message_raises(chat_settings, user, make_conversation):
    conversation = await sync_to_async(make_conversation)(user)
    with pytest.raises(Message.DoesNotExist):
        await history.aprepare_context(conversation.pk, until_message_id=999_999)


async def test_failed_periodic_summary_still_sends_everything_that_fits(
    chat_settings, chat_requests, user, make_conversation, add_turns
):
    conversation = await sync_to_async(make_conversation)(user)
    pairs = [("q0 [[sim:status=503]]", "a0")] + [
        (f"q{i}", f"a{i}") for i in range(1, 6)
    ]
    await sync_to_async(add_turns)(conversation, pairs)
    question = await _ask(conversation, "q6")

    context = await history.aprepare_context(
        conversation.pk, until_message_id=question.pk
    )

    assert len(chat_requests()) == 2  # the summary call and its retry, both 503
    assert context.summary is None and context.omitted == 0
    assert [m["content"] for m in context.messages] == [
        text for pair in pairs for text in pair
    ] + ["q6"]


async def test_first_messages_context_is_the_same_known_as_read_and_needs_no_query(
    chat_settings, user, make_conversation, make_character, monkeypatch
):
    character = await sync_to_async(make_character)(user)
    conversation = await sync_to_async(make_conversation)(
        user, system_prompt="Be brief.", character=character
    )
    turn = await turns.asend_message(str(conversation.pk), user.pk, uuid.uuid4(), "Hi")
    assert turn.history == [turn.user]
    read = await history.aprepare_context(
        conversation.pk,
        until_message_id=turn.reply_to_id,
        conversation=turn.conversation,
    )
    queries: list[str] = []  # in every thread (the pool's too)
    original = db_utils.CursorWrapper._execute_with_wrappers

    def counting(self, sql, params, many, executor):
        queries.append(sql)
        return original(self, sql, params, many, executor)

    monkeypatch.setattr(db_utils.CursorWrapper, "_execute_with_wrappers", counting)
    known = await history.aprepare_context(
        conversation.pk,
        until_message_id=turn.reply_to_id,
        conversation=turn.conversation,
        known=turn.history,
    )
    assert known == read
    assert "Lin Wei" in known.messages[0]["content"]  # the character's prompt
    assert known.messages[-1] == {"role": "user", "content": "Hi"}
    assert queries == []
