"""Automatic titles after the first exchange (against the simulator)."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chat import titles
from chat.models import Conversation, Message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def exchange(user, make_conversation, add_turns):
    """Return a function making an untitled conversation with one exchange."""

    def make(question: str, answer: str = "Sure, here it is.") -> Conversation:
        conversation = make_conversation(user)
        add_turns(conversation, [(question, answer)])
        return conversation

    return sync_to_async(make)


def test_clean_title_strips_labels_quotes_and_markdown():
    assert titles.clean_title('Title: "Rust lifetimes explained."') == (
        "Rust lifetimes explained"
    )
    assert titles.clean_title("## **标题：量子计算入门**\n第二行") == "量子计算入门"
    assert titles.clean_title("  \n\n  《春天的诗》。") == "春天的诗"
    long = titles.clean_title("x" * 100)
    assert len(long) == titles.TITLE_MAX_CHARS and long.endswith("…")


async def test_model_title_is_asked_for_and_saved(
    glm_settings, chat_requests, exchange
):
    glm_settings.GLMWEB_AUTO_TITLE = "model"
    conversation = await exchange("How do lifetimes work in Rust?")

    titled = await titles.amaybe_title(conversation.pk)

    (call,) = chat_requests()
    assert call["model"] == "glm-4-flash"
    assert call["max_tokens"] == 32
    assert call["messages"] == [
        {"role": "system", "content": titles.TITLE_INSTRUCTIONS},
        {
            "role": "user",
            "content": "User: How do lifetimes work in Rust?\n\n"
            "Assistant: Sure, here it is.",
        },
    ]
    assert titled is not None
    # The simulator answers a title request with the opening of the user's turn.
    assert titled.title == "How do lifetimes work in Rust"
    assert len(titled.title) <= titles.TITLE_MAX_CHARS
    saved = await Conversation.objects.aget(pk=conversation.pk)
    assert saved.title == titled.title and saved.title_is_auto
    # Once titled, never again.
    assert await titles.amaybe_title(conversation.pk) is None
    assert len(chat_requests()) == 1


async def test_failed_title_call_falls_back_to_the_first_line(
    glm_settings, chat_requests, exchange
):
    glm_settings.GLMWEB_AUTO_TITLE = "model"
    conversation = await exchange("Plan a trip to Kyoto\nthree days [[sim:status=500]]")

    titled = await titles.amaybe_title(conversation.pk)

    assert len(chat_requests()) == 2  # the call and its one retry, both 500
    assert titled is not None and titled.title == "Plan a trip to Kyoto"


async def test_text_mode_makes_no_model_call(glm_settings, chat_requests, exchange):
    glm_settings.GLMWEB_AUTO_TITLE = "text"
    conversation = await exchange("你好，帮我写一首关于春天的诗吧")

    titled = await titles.amaybe_title(conversation.pk)

    assert titled.title == "你好，帮我写一首关于春天的诗吧"
    assert chat_requests() == []


async def test_off_mode_leaves_the_title_empty(glm_settings, chat_requests, exchange):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    conversation = await exchange("hello")

    assert await titles.amaybe_title(conversation.pk) is None
    assert (await Conversation.objects.aget(pk=conversation.pk)).title == ""
    assert chat_requests() == []


async def test_no_title_before_a_reply_completes(
    glm_settings, chat_requests, user, make_conversation
):
    glm_settings.GLMWEB_AUTO_TITLE = "text"
    conversation = await sync_to_async(make_conversation)(user)
    await Message.objects.acreate(
        conversation=conversation, role=Message.Role.USER, content="hi"
    )
    reply = await Message.objects.acreate(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
    )
    assert await titles.amaybe_title(conversation.pk) is None
    reply.status = Message.Status.ERROR
    await reply.asave()
    assert await titles.amaybe_title(conversation.pk) is None
    reply.status, reply.content = Message.Status.COMPLETE, "hello"
    await reply.asave()
    assert (await titles.amaybe_title(conversation.pk)).title == "hi"


async def test_users_own_title_is_never_replaced(glm_settings, chat_requests, exchange):
    glm_settings.GLMWEB_AUTO_TITLE = "model"
    conversation = await exchange("hello")
    await Conversation.objects.filter(pk=conversation.pk).aupdate(
        title="Mine", title_is_auto=False
    )

    assert await titles.amaybe_title(conversation.pk) is None
    assert (await Conversation.objects.aget(pk=conversation.pk)).title == "Mine"
    assert chat_requests() == []


async def test_title_does_not_wait_for_djangos_shared_orm_thread(
    glm_settings, exchange, shared_orm_thread_busy
):
    glm_settings.GLMWEB_AUTO_TITLE = "text"
    conversation = await exchange("What is a monad?")

    async with shared_orm_thread_busy():
        titled = await asyncio.wait_for(titles.amaybe_title(conversation.pk), 5)

    assert titled.title == "What is a monad"
