"""The summary call's request and what happens when it fails."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chat import summaries
from chat.models import Message, Summary


def _messages(*texts: str) -> list[Message]:
    roles = [Message.Role.USER, Message.Role.ASSISTANT]
    return [Message(role=roles[i % 2], content=text) for i, text in enumerate(texts)]


def test_request_folds_in_the_previous_summary():
    request = summaries.build_request(
        "Earlier: X.", _messages("q1", "a1"), input_budget=10_000
    )
    assert request == [
        {"role": "system", "content": summaries.SUMMARY_INSTRUCTIONS},
        {
            "role": "user",
            "content": "Previous summary:\nEarlier: X.\n\nConversation:\n\n"
            "User: q1\n\nAssistant: a1",
        },
    ]


def test_request_keeps_the_newest_turns_that_fit():
    budget = 180  # the instructions take about 130 of it
    request = summaries.build_request(
        None, _messages("old " * 40, "mid", "new"), input_budget=budget
    )
    content = request[1]["content"]
    assert content.endswith("User: mid\n\nAssistant: new") or content.endswith(
        "Assistant: mid\n\nUser: new"
    )
    assert "old" not in content


def test_one_turn_longer_than_the_budget_is_cut_not_dropped():
    request = summaries.build_request(None, _messages("x" * 5000), input_budget=400)
    content = request[1]["content"]
    assert "User: xxx" in content
    assert len(content) < 1000


@pytest.mark.django_db(transaction=True)
async def test_timeout_gives_none_and_saves_nothing(
    glm_settings, chat_requests, user, make_conversation, add_turns
):
    glm_settings.GLMWEB_SUMMARY_TIMEOUT = 0.3
    conversation = await sync_to_async(make_conversation)(user)
    turns = await sync_to_async(add_turns)(
        conversation, [("slow [[sim:stall_s=3]]", "a")]
    )

    summary = await summaries.asummarise(conversation.pk, previous=None, messages=turns)

    assert summary is None
    assert len(chat_requests()) == 1
    assert not await Summary.objects.filter(conversation=conversation).aexists()


@pytest.mark.django_db(transaction=True)
async def test_summary_is_saved_without_waiting_for_djangos_shared_orm_thread(
    glm_settings, chat_requests, user, make_conversation, add_turns,
    shared_orm_thread_busy,
):  # fmt: skip
    conversation = await sync_to_async(make_conversation)(user)
    turns = await sync_to_async(add_turns)(conversation, [("Hi", "Hello")])

    async with shared_orm_thread_busy():
        summary = await asyncio.wait_for(
            summaries.asummarise(conversation.pk, previous=None, messages=turns), 5
        )

    assert summary is not None and summary.covers_until_id == turns[-1].pk
    assert await Summary.objects.filter(conversation=conversation).acount() == 1
