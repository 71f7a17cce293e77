"""A conversation with a character on the running simulator: the exact `meta` a
CharGLM call sends, the exact system prompt a glm-4 call sends after switching
models in the same conversation, personas, and summaries that keep the story."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from chat import history, summaries
from chat.characters import prompting, services
from chat.models import Message, Persona
from tests.chat.conftest import receive_until, send_frame

pytestmark = pytest.mark.django_db(transaction=True)

CHARACTER = {
    "name": "Lin Wei",
    "description": "{{char}} keeps a tea house in old Chengdu.",
    "personality": "warm, teasing",
    "scenario": "{{user}} shelters from the rain in {{char}}'s tea house.",
    "example_dialogue": "{{user}}: Tea?\n{{char}}: Always.",
    "greeting": "Welcome in, {{user}}! Sit by the stove.",
    "alternate_greetings": ["Back again, {{user}}?"],
    "user_name": "Traveller",
    "user_info": "A stranger from the coast.",
}
EXPECTED_PROMPT = (
    "You are Lin Wei, in a role-play with Traveller. Stay in character: speak and "
    "act only as Lin Wei, never for Traveller, and do not say you are an AI.\n\n"
    "[Lin Wei]\nLin Wei keeps a tea house in old Chengdu.\n\n"
    "[Personality]\nwarm, teasing\n\n"
    "[Scenario]\nTraveller shelters from the rain in Lin Wei's tea house.\n\n"
    "[Example dialogue]\nTraveller: Tea?\nLin Wei: Always.\n\n"
    "[Traveller]\nA stranger from the coast."
)


def send(text, **options):
    return send_frame(text, **({"options": options} if options else {}))


async def _start(user, make_character, persona=None, **fields):
    character = await sync_to_async(make_character)(user, **{**CHARACTER, **fields})
    return await sync_to_async(services.start_chat)(user, character, persona)


async def test_charglm_gets_the_exact_meta_then_glm4_the_exact_system_prompt(
    glm_settings, chat_requests, ws_connect, user, make_character
):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    conversation = await _start(user, make_character)
    ws = await ws_connect(user, conversation.pk)
    history_frame = await ws.receive_json_from()
    # The story opens with the greeting, names filled in, from the character.
    assert [(m["role"], m["content"]) for m in history_frame["messages"]] == [
        ("assistant", "Welcome in, Traveller! Sit by the stove.")
    ]
    assert history_frame["conversation"]["model"] == "charglm-4"
    assert history_frame["conversation"]["character"] == {
        "id": str(conversation.character_id),
        "name": "Lin Wei",
        "avatar_url": None,
        "greetings": 2,
        "greeting_index": 0,
        "persona": None,
    }

    await ws.send_json_to(send("May I come in?"))
    end, _ = await receive_until(ws, "reply.end")
    assert end["message"]["status"] == "complete"
    assert "Lin Wei" in end["message"]["content"]  # the simulator plays bot_name
    (call,) = chat_requests()
    assert call["model"] == "charglm-4"
    assert call["meta"] == {
        "user_info": "A stranger from the coast.",
        "bot_info": "Lin Wei keeps a tea house in old Chengdu.\n"
        "Personality: warm, teasing\n"
        "Scenario: Traveller shelters from the rain in Lin Wei's tea house.\n"
        "Example dialogue: Traveller: Tea?\nLin Wei: Always.",
        "bot_name": "Lin Wei",
        "user_name": "Traveller",
    }
    assert call["messages"] == [
        {"role": "assistant", "content": "Welcome in, Traveller! Sit by the stove."},
        {"role": "user", "content": "May I come in?"},
    ]

    # Same conversation, now on GLM-4-Flash: the character comes as a system prompt.
    await ws.send_json_to(send("What is on the menu?", model="glm-4-flash"))
    end, _ = await receive_until(ws, "reply.end")
    assert end["message"]["status"] == "complete"
    call = chat_requests()[-1]
    assert call["model"] == "glm-4-flash"
    assert "meta" not in call
    assert call["messages"][0] == {"role": "system", "content": EXPECTED_PROMPT}
    assert [m["role"] for m in call["messages"][1:]] == [
        "assistant", "user", "assistant", "user",
    ]  # fmt: skip


async def test_persona_fills_the_users_side_and_own_system_prompt_follows(
    glm_settings, chat_requests, ws_connect, user, make_character
):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    persona = await sync_to_async(Persona.objects.create)(
        owner=user, name="Mei", description="{{char}}'s old friend from school."
    )
    conversation = await _start(user, make_character, persona)
    await sync_to_async(type(conversation).objects.filter(pk=conversation.pk).update)(
        system_prompt="Answer in two sentences.", model="glm-4-flash"
    )
    ws = await ws_connect(user, conversation.pk)
    frame = await ws.receive_json_from()
    assert frame["conversation"]["character"]["persona"] == "Mei"
    assert frame["messages"][0]["content"] == "Welcome in, Mei! Sit by the stove."
    await ws.send_json_to(send("Hi!"))
    await receive_until(ws, "reply.end")
    system = chat_requests()[-1]["messages"][0]
    assert system["content"].startswith("You are Lin Wei, in a role-play with Mei.")
    assert system["content"].endswith(
        "[Mei]\nLin Wei's old friend from school.\n\nAnswer in two sentences."
    )

    await ws.send_json_to(send("And you?", model="charglm-4"))
    await receive_until(ws, "reply.end")
    call = chat_requests()[-1]
    assert call["meta"]["user_name"] == "Mei"
    assert call["meta"]["user_info"] == "Lin Wei's old friend from school."
    # On a meta model the conversation's own prompt is all the system message holds.
    assert call["messages"][0] == {
        "role": "system",
        "content": "Answer in two sentences.",
    }


async def test_roleplay_model_without_a_visible_character_gets_the_default_meta(
    glm_settings, chat_requests, ws_connect, user, other_user, make_character
):
    glm_settings.GLMWEB_AUTO_TITLE = "off"
    shared = await sync_to_async(make_character)(other_user, visibility="shared")
    conversation = await sync_to_async(services.start_chat)(user, shared)
    # The owner makes it private: this user's conversation stays, without it.
    await sync_to_async(type(shared).objects.filter(pk=shared.pk).update)(
        visibility="private"
    )
    ws = await ws_connect(user, conversation.pk)
    frame = await ws.receive_json_from()
    assert frame["conversation"]["character"] is None
    # (Its title, "Lin Wei", is this user's own: set when they started the chat.)
    await ws.send_json_to(send("Hello?"))
    end, _ = await receive_until(ws, "reply.end")
    assert end["message"]["status"] == "complete"
    assert chat_requests()[-1]["meta"] == prompting.NO_CHARACTER_META
    # ...and a role-play model cannot be chosen again without a character.
    await ws.send_json_to(send("Again", model="glm-4-flash"))
    await receive_until(ws, "reply.end")
    await ws.send_json_to(send("Back", model="charglm-4"))
    refused = await ws.receive_json_from()
    assert refused["type"] == "error" and refused["code"] == "invalid"
    assert "options.model" in refused["message"]


async def test_summary_of_a_roleplay_keeps_the_names_and_the_story(
    glm_settings, chat_requests, user, make_character, add_turns
):
    glm_settings.GLMWEB_SUMMARY_EVERY_ROUNDS = 2
    glm_settings.GLMWEB_SUMMARY_KEEP_ROUNDS = 1
    conversation = await _start(user, make_character)
    await sync_to_async(add_turns)(
        conversation, [(f"line {i}", f"reply {i}") for i in range(3)]
    )
    question = await sync_to_async(Message.objects.create)(
        conversation=conversation, role="user", content="line 3"
    )
    context = await history.aprepare_context(
        conversation.pk, until_message_id=question.pk
    )
    assert context.summary is not None
    (call,) = chat_requests()
    system = call["messages"][0]["content"]
    assert system == (
        f"{summaries.SUMMARY_INSTRUCTIONS} This conversation is a role-play: "
        "Traveller (the user) and Lin Wei (played by the assistant). Keep both names "
        "and every other character's name, who they are and how they relate, where "
        "the story stands, and every event and fact of the story so far, in the "
        "order they happened."
    )
    transcript = call["messages"][1]["content"]
    assert "Lin Wei: Welcome in, Traveller!" in transcript
    assert "Traveller: line 0" in transcript
