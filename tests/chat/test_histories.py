"""Long histories: the history's newest page, older pages over HTTP, the sidebar's
pages, and the indexed search (chat.message_pages, chat.conversations, chat.search)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import conversations, message_pages, search
from chat.models import Conversation, Message


def _long_conversation(user, make_conversation, add_turns, turns: int = 120):
    """A conversation of `turns` turns where some replies were regenerated (the old
    versions superseded), one turn was edited away (superseded) and some messages
    share a created_at (the cursor must break the tie by id)."""
    conversation = make_conversation(user, title="long")
    add_turns(conversation, [(f"question {i}", f"answer {i}") for i in range(turns)])
    rows = list(Message.objects.filter(conversation=conversation).order_by("id"))
    same_time = timezone.now() - timedelta(days=1)
    # Twelve messages in a row written "at once".
    Message.objects.filter(pk__in=[m.pk for m in rows[40:52]]).update(
        created_at=same_time
    )
    later = same_time + timedelta(seconds=1)
    Message.objects.filter(pk__in=[m.pk for m in rows[52:]]).update(created_at=later)
    Message.objects.filter(pk__in=[m.pk for m in rows[:40]]).update(
        created_at=same_time - timedelta(seconds=1)
    )
    # Regenerated answers: the first version superseded, a second one shown.
    for question in rows[10:30:2]:
        answer = Message.objects.get(pk=question.pk + 1)
        answer.reply_to = question
        answer.superseded = True
        answer.save(update_fields=["reply_to", "superseded"])
        Message.objects.create(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            content=f"second version of {answer.content}",
            status=Message.Status.COMPLETE,
            reply_to=question,
            created_at=answer.created_at,
        )
    # An edited turn: hidden.
    Message.objects.filter(pk__in=[rows[60].pk, rows[61].pk]).update(superseded=True)
    return conversation


def _visible_ids(conversation: Conversation) -> list[int]:
    return list(
        Message.objects.filter(conversation=conversation, superseded=False)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [1, 7, 37, 100, 200])
def test_pages_hold_every_visible_message_once_in_order(
    alice_client, user, make_conversation, add_turns, limit
):
    conversation = _long_conversation(user, make_conversation, add_turns)
    url = f"/api/conversations/{conversation.pk}/messages/"
    body = alice_client.get(url, {"limit": limit}).json()
    pages = [body["messages"]]
    while body["has_more"]:
        body = alice_client.get(
            url, {"before": pages[0][0]["id"], "limit": limit}
        ).json()
        assert body["messages"], "has_more promised an older page"
        pages.insert(0, body["messages"])
    seen = [message["id"] for page in pages for message in page]
    assert seen == _visible_ids(conversation)
    assert len(seen) == len(set(seen))
    assert all(len(page) <= limit for page in pages)
    # Versions ride on the replies of every page, hidden versions included.
    regenerated = [m for page in pages for m in page if len(m["versions"]) == 2]
    assert len(regenerated) == 10


@pytest.mark.django_db
def test_before_a_message_of_another_conversation_gives_an_empty_page(
    alice_client, user, make_conversation, add_turns
):
    mine = make_conversation(user)
    add_turns(mine, [("a", "b")])
    other = make_conversation(user)
    foreign = add_turns(other, [("c", "d")])[1]
    body = alice_client.get(
        f"/api/conversations/{mine.pk}/messages/", {"before": foreign.pk}
    ).json()
    assert body == {"messages": [], "has_more": False}


@pytest.mark.django_db
def test_a_before_that_is_not_a_number_is_refused(
    alice_client, user, make_conversation
):
    conversation = make_conversation(user)
    response = alice_client.get(
        f"/api/conversations/{conversation.pk}/messages/", {"before": "x"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.django_db
def test_page_queries_do_not_grow_with_the_history(user, make_conversation, add_turns):
    conversation = _long_conversation(user, make_conversation, add_turns)
    newest = _visible_ids(conversation)[-1]
    with CaptureQueriesContext(connection) as queries:
        page = message_pages.page_before(conversation, newest)
    assert len(page.messages) == message_pages.PAGE_SIZE
    assert len(queries) == 4


@pytest.mark.django_db(transaction=True)
async def test_history_frame_carries_the_newest_page_and_has_more(
    glm_settings, ws_connect, user, make_conversation, add_turns
):
    from asgiref.sync import sync_to_async

    conversation = await sync_to_async(_long_conversation)(
        user, make_conversation, add_turns
    )
    visible = await sync_to_async(_visible_ids)(conversation)
    ws = await ws_connect(user, conversation.pk)
    history = await ws.receive_json_from()
    assert history["type"] == "conversation.history"
    assert [m["id"] for m in history["messages"]] == visible[-100:]
    assert history["has_more"] is True


# --- the sidebar


def _walk_sidebar(client, **params) -> list[str]:
    body = client.get("/api/conversations/", params).json()
    ids = [row["id"] for row in body["conversations"]]
    while body["next_cursor"]:
        body = client.get(
            "/api/conversations/", {**params, "cursor": body["next_cursor"]}
        ).json()
        ids += [row["id"] for row in body["conversations"]]
    return ids


@pytest.mark.django_db
def test_sidebar_pages_hold_every_conversation_once_in_order(alice_client, user):
    Conversation.objects.bulk_create(
        Conversation(owner=user, title=f"chat {i}", pinned=i % 17 == 0)
        for i in range(250)
    )
    rows = list(Conversation.objects.filter(owner=user).order_by("pk"))
    # Ties in updated_at: only the id tells these apart.
    tie = timezone.now() - timedelta(hours=1)
    Conversation.objects.filter(pk__in=[c.pk for c in rows[:120]]).update(
        updated_at=tie
    )
    expected = [
        str(pk)
        for pk in Conversation.objects.filter(owner=user)
        .order_by("-pinned", "-updated_at", "-pk")
        .values_list("pk", flat=True)
    ]
    first = alice_client.get("/api/conversations/").json()
    assert len(first["conversations"]) == conversations.SIDEBAR_PAGE
    assert _walk_sidebar(alice_client) == expected


@pytest.mark.django_db
def test_sidebar_cursor_that_was_not_made_here_is_refused(alice_client):
    for cursor in ("nonsense", "2_2026-01-01T00:00:00_x", "1_yesterday_abc"):
        response = alice_client.get("/api/conversations/", {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["error"]["code"] == "invalid_cursor"


# --- search


def _old_search(user, query: str) -> set[str]:
    """What list_conversations found before the index: icontains on the title or a
    visible message (the oracle the indexed search must equal)."""
    found = set()
    for conversation in Conversation.objects.filter(
        owner=user, deleted_at__isnull=True, archived=False
    ):
        texts = Message.objects.filter(
            conversation=conversation, superseded=False
        ).values_list("content", flat=True)
        if query.lower() in conversation.title.lower() or any(
            query.lower() in text.lower() for text in texts
        ):
            found.add(str(conversation.pk))
    return found


@pytest.mark.django_db
def test_indexed_search_finds_what_the_scan_found(user, make_conversation, add_turns):
    texts = [
        ("Rust borrow checking", "Lifetimes are scopes"),
        ("我们来讨论量子计算", "量子比特是基本单位"),
        ('He said "quoted" words', "ok"),
        ("percent 100% and under_score", "x"),
        ("short", "ab"),
        ("RUST again, in capitals", "fine"),
    ]
    for i, pair in enumerate(texts):
        add_turns(make_conversation(user, title=f"t{i}"), [pair])
    hidden = make_conversation(user, title="hidden")
    add_turns(hidden, [("rust in a superseded turn", "ok")])
    Message.objects.filter(conversation=hidden).update(superseded=True)
    edited = make_conversation(user, title="edited")
    message = add_turns(edited, [("first words", "ok")])[0]
    message.content = "second thoughts about rust"
    message.save(update_fields=["content"])
    for query in (
        "rust",
        "RUST",
        "量子计算",
        "量子",
        '"quoted"',
        "100%",
        "under_score",
        "ab",
        "first words",
        "second thoughts",
        "t1",
        "nothing like it",
    ):
        page = conversations.list_conversations(user, query=query)
        assert {str(h.conversation.pk) for h in page.hits} == _old_search(
            user, query
        ), query


@pytest.mark.django_db
def test_search_uses_the_fts_table_on_sqlite(user, make_conversation, add_turns):
    if connection.vendor != "sqlite":
        pytest.skip("FTS5 is SQLite's")
    add_turns(make_conversation(user), [("needle in the haystack", "ok")])
    assert search.fts_available()
    with CaptureQueriesContext(connection) as queries:
        page = conversations.list_conversations(user, query="needle")
    assert len(page.hits) == 1
    assert page.hits[0].snippet == "needle in the haystack"
    assert any(f"{search.FTS_TABLE} MATCH" in q["sql"] for q in queries)
    # Deleted rows leave the index with them (the trigger).
    Message.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} "
            "MATCH '\"needle\"'"
        )
        assert cursor.fetchone()[0] == 0
