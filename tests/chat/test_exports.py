"""Exports: the visible conversation as Markdown, everything as JSON."""

from __future__ import annotations

import json
import re

import pytest

from chat.models import Message, Summary


@pytest.fixture
def exported(user, make_conversation, add_turns):
    conversation = make_conversation(
        user, title="Rust 生命周期", system_prompt="Be brief.\nAlways."
    )
    turns = add_turns(conversation, [("What is 'a?", "A lifetime.")])
    hidden = add_turns(conversation, [("<script>x</script>", "old answer")])
    Message.objects.filter(pk__in=[m.pk for m in hidden]).update(superseded=True)
    add_turns(conversation, [("Edited question", None)])
    Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.INTERRUPTED,
        content="Partial",
        reasoning="thinking…",
        error_code="stream_interrupted",
        web_search=[{"title": "Rust book", "link": "https://doc.rust-lang.org/"}],
        model="glm-4.6",
    )
    Summary.objects.create(
        conversation=conversation,
        content="They asked about lifetimes.",
        covers_until=turns[1],
        covered_messages=2,
    )
    return conversation


@pytest.mark.django_db
def test_markdown_export_is_the_visible_transcript(alice_client, exported):
    response = alice_client.get(
        f"/api/conversations/{exported.pk}/export.md",
        headers={"accept-language": "en"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''rust-%E7%94%9F%E5%91%BD%E5%91%A8%E6%9C%9F-" in disposition
    text = response.content.decode()
    assert text.startswith("# Rust 生命周期\n\n- Model: glm-4-flash\n")
    # Dates as the reader's language writes them ("Jan. 16, 2026, 9:30 a.m.").
    assert re.search(r"- Created: [A-Z][a-z]+\.? \d{1,2}, 20\d\d, \d", text)
    assert "**System prompt**\n\n> Be brief.\n> Always." in text
    assert "## User · " in text and "What is 'a?" in text
    assert "## Assistant · glm-4-flash · " in text and "A lifetime." in text
    assert "## Assistant · glm-4.6 · " in text
    assert "> **Thinking**\n>\n> thinking…" in text
    assert "[^1]: [Rust book](https://doc.rust-lang.org/)" in text
    assert "*(Error: The reply was cut off on its way here." in text
    assert "<script>" not in text and "old answer" not in text
    assert text.index("What is 'a?") < text.index("Edited question")


@pytest.mark.django_db
def test_markdown_export_speaks_chinese(alice_client, exported):
    text = alice_client.get(
        f"/api/conversations/{exported.pk}/export.md",
        headers={"accept-language": "zh-hans"},
    ).content.decode()
    assert "- 模型: glm-4-flash" in text
    assert re.search(r"- 创建时间: 20\d\d年\d{1,2}月\d{1,2}日 \d\d:\d\d", text)
    assert re.search(r"## 用户 · 20\d\d年\d{1,2}月\d{1,2}日", text)
    assert "## 用户 · " in text and "## 助手 · " in text
    assert "回复在传输中断开了" in text


@pytest.mark.django_db
def test_json_export_includes_hidden_turns_and_summaries_marked(alice_client, exported):
    response = alice_client.get(f"/api/conversations/{exported.pk}/export.json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["format"] == "glmweb.conversation" and data["version"] == 1
    assert data["conversation"]["title"] == "Rust 生命周期"
    assert data["conversation"]["title_is_auto"] is True
    assert [(m["content"], m["superseded"]) for m in data["messages"]] == [
        ("What is 'a?", False),
        ("A lifetime.", False),
        ("<script>x</script>", True),
        ("old answer", True),
        ("Edited question", False),
        ("Partial", False),
    ]
    last = data["messages"][-1]
    assert last["status"] == "interrupted"
    assert last["reasoning"] == "thinking…"
    assert last["error"]["code"] == "stream_interrupted"
    assert [(s["content"], s["active"]) for s in data["summaries"]] == [
        ("They asked about lifetimes.", True)
    ]


@pytest.mark.django_db
def test_untitled_export_gets_a_generic_name(alice_client, user, make_conversation):
    conversation = make_conversation(user)
    response = alice_client.get(
        f"/api/conversations/{conversation.pk}/export.md",
        headers={"accept-language": "en"},
    )
    assert 'filename="conversation-' in response["Content-Disposition"]
    assert response.content.decode().startswith("# Untitled conversation\n")


@pytest.mark.django_db
def test_markdown_export_writes_citations_as_footnotes(
    alice_client, user, make_conversation, add_turns
):
    conversation = make_conversation(user)
    add_turns(conversation, [("Search it", None)])
    Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=(
            "Rust is safe [ref_2] and fast【ref_1】, see [ref_1, ref_2]; not [ref_9]."
        ),
        web_search=[
            {
                "title": "Fast [really]",
                "link": "https://a.example/fast",
                "media": "A",
                "publish_date": "2025-01-02",
                "refer": "ref_1",
            },
            # Hostile: a script link and markup in the title stay text.
            {
                "title": "<b>Safe</b>",
                "link": "javascript:alert(1)",
                "refer": "ref_2",
            },
        ],
    )
    text = alice_client.get(
        f"/api/conversations/{conversation.pk}/export.md",
        headers={"accept-language": "en"},
    ).content.decode()
    assert "Rust is safe [^2] and fast[^1], see [^1][^2]; not [ref_9]." in text
    assert "[^1]: [Fast \\[really\\]](https://a.example/fast) · A · 2025-01-02" in text
    assert "[^2]: \\<b\\>Safe\\</b\\>" in text
    assert "javascript:" not in text


@pytest.mark.django_db
def test_exports_say_which_version_was_shown(
    alice_client, user, make_conversation, add_turns
):
    conversation = make_conversation(user)
    question, first = add_turns(conversation, [("Q", "first answer")])
    Message.objects.filter(pk=first.pk).update(reply_to=question, superseded=True)
    second = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content="second answer",
        reply_to=question,
    )
    text = alice_client.get(
        f"/api/conversations/{conversation.pk}/export.md",
        headers={"accept-language": "en"},
    ).content.decode()
    assert "second answer" in text and "first answer" not in text
    assert "*(Version 2 of 2, the one shown when exported;" in text
    data = json.loads(
        alice_client.get(f"/api/conversations/{conversation.pk}/export.json").content
    )
    answers = [m for m in data["messages"] if m["role"] == "assistant"]
    assert [(m["versions"], m["superseded"]) for m in answers] == [
        ([first.pk, second.pk], True),
        ([first.pk, second.pk], False),
    ]


@pytest.mark.django_db
def test_markdown_export_quotes_an_agents_tool_runs(
    alice_client, user, make_conversation, add_turns
):
    conversation = make_conversation(user, title="Agent")
    add_turns(conversation, [("Search for Rust", None)])
    Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.COMPLETE,
        content="Found it.",
        tool_calls=[
            {
                "type": "web_browser",
                "input": "rust [lifetimes]",
                "outputs": [
                    {"title": "Rust book", "link": "https://doc.rust-lang.org/"}
                ],
            }
        ],
    )
    text = alice_client.get(
        f"/api/conversations/{conversation.pk}/export.md",
        headers={"accept-language": "en"},
    ).content.decode()
    assert "> **Tool: web_browser**" in text
    assert "> rust [lifetimes]" in text
    assert "> title: Rust book" in text
    assert "> link: https://doc.rust-lang.org/" in text
    assert text.index("**Tool:") < text.index("Found it.")
