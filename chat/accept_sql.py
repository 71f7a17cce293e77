"""The statements every accepted message runs, as SQL written once per database.

Accepting a message (chat.turns.send_message on SQLite's one writer thread, then the
context read, chat.history) and saving its reply's end (chat.turns.finish_reply, on
the same writer) ran a handful of small statements, and Django spent
about six times as long building each one as the database spent running it
(docs/performance.md, issue 14). Here their SQL is made once per database vendor
from the models' own metadata (table, columns, converters), so a renamed column or
a new field follows the model, and each call only binds values and builds the rows.

Only the hot, fixed-shape statements live here; everything else stays in the ORM.
Callers run these inside their own transaction, as they would the ORM calls.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Field, Model

from chat.models import Character, Conversation, Message, Persona, Summary

DB = "default"
M = TypeVar("M", bound=Model)

# (vendor, name) -> SQL; the per-model column readers likewise.
_sql: dict[tuple[str, str], str] = {}
_readers: dict[tuple[str, type[Model], str], Callable[..., Any]] = {}


def _quote(name: str) -> str:
    return connections[DB].ops.quote_name(name)


def _columns(model: type[Model], alias: str) -> str:
    return ", ".join(
        f"{_quote(alias)}.{_quote(field.column)}"
        for field in model._meta.concrete_fields
    )


def _reader(model: type[M], alias: str) -> Callable[[Sequence[Any]], M]:
    """Return read(values) -> model instance, for values in concrete_fields order
    (the database's converters applied, as the ORM does)."""
    connection = connections[DB]
    key = (connection.vendor, model, alias)
    read = _readers.get(key)
    if read is None:
        names = [field.attname for field in model._meta.concrete_fields]
        steps: list[tuple[int, list[Callable[..., Any]], Any]] = []
        for index, field in enumerate(model._meta.concrete_fields):
            column = field.get_col(alias)
            converters = connection.ops.get_db_converters(
                column
            ) + field.get_db_converters(connection)  # type: ignore[attr-defined]
            if converters:
                steps.append((index, converters, column))

        def read(values: Sequence[Any]) -> M:
            # This thread's connection; the converters are the vendor's and keep
            # no state of the connection they were first looked up on.
            current = connections[DB]
            row = list(values)
            for index, converters, column in steps:
                value = row[index]
                for converter in converters:
                    value = converter(value, column, current)
                row[index] = value
            return model.from_db(DB, names, row)

        _readers[key] = read
    return read


def _prep(model: type[Model], name: str, value: Any) -> Any:
    field: Field[Any, Any] = model._meta.get_field(name)  # type: ignore[assignment]
    return field.get_db_prep_value(value, connections[DB], prepared=False)


def _statement(name: str, build: Callable[[], str]) -> str:
    key = (connections[DB].vendor, name)
    sql = _sql.get(key)
    if sql is None:
        sql = _sql[key] = build()
    return sql


def conversation_id_value(conversation_id: str | uuid.UUID) -> uuid.UUID | None:
    """Return `conversation_id` as a UUID, or None when it is not one."""
    try:
        return Conversation._meta.pk.to_python(conversation_id)
    except (ValidationError, ValueError):
        return None


def _conversation_sql() -> str:
    conversation = Conversation._meta.db_table
    character, persona = Character._meta.db_table, Persona._meta.db_table
    sql = (
        f"SELECT {_columns(Conversation, conversation)}, "
        f"{_columns(Character, character)}, {_columns(Persona, persona)} "
        f"FROM {_quote(conversation)} "
        f"LEFT OUTER JOIN {_quote(character)} ON {_quote(conversation)}."
        f"{_quote('character_id')} = {_quote(character)}.{_quote('id')} "
        f"LEFT OUTER JOIN {_quote(persona)} ON {_quote(conversation)}."
        f"{_quote('persona_id')} = {_quote(persona)}.{_quote('id')} "
        f"WHERE {_quote(conversation)}.{_quote('id')} = %s "
        f"AND {_quote(conversation)}.{_quote('owner_id')} = %s "
        f"AND {_quote(conversation)}.{_quote('deleted_at')} IS NULL"
    )
    # PostgreSQL locks the row; SQLite's IMMEDIATE transaction already holds the
    # database's write lock. The nullable sides of the joins cannot be locked.
    if connections[DB].features.has_select_for_update_of:
        sql += f" FOR UPDATE OF {_quote(conversation)}"
    return sql


def locked_conversation(
    conversation_id: uuid.UUID, owner_id: int
) -> Conversation | None:
    """Return the owner's live conversation with its character and persona loaded,
    locked for this transaction (PostgreSQL); None when there is none."""
    sql = _statement("conversation", _conversation_sql)
    with connections[DB].cursor() as cursor:
        cursor.execute(sql, [_prep(Conversation, "id", conversation_id), owner_id])
        row = cursor.fetchone()
    if row is None:
        return None
    sizes = [len(model._meta.concrete_fields) for model in (Conversation, Character)]
    conversation = _reader(Conversation, Conversation._meta.db_table)(row[: sizes[0]])
    character_row = row[sizes[0] : sizes[0] + sizes[1]]
    persona_row = row[sizes[0] + sizes[1] :]
    # As select_related leaves them: the related object, or None for no row.
    Conversation.character.field.set_cached_value(
        conversation,
        _reader(Character, Character._meta.db_table)(character_row)
        if character_row[0] is not None
        else None,
    )
    Conversation.persona.field.set_cached_value(
        conversation,
        _reader(Persona, Persona._meta.db_table)(persona_row)
        if persona_row[0] is not None
        else None,
    )
    return conversation


def _turn_rows_sql() -> str:
    table, q = _quote(Message._meta.db_table), _quote
    return (
        f"SELECT {q('id')}, {q('client_id')}, {q('status')} FROM {table} "
        f"WHERE {q('conversation_id')} = %s AND ({q('client_id')} = %s "
        f"OR {q('status')} = %s OR {q('id')} = (SELECT {q('id')} FROM {table} "
        f"WHERE {q('conversation_id')} = %s LIMIT 1))"
    )


def turn_rows(
    conversation_id: uuid.UUID, client_id: uuid.UUID
) -> tuple[bool, list[int], bool]:
    """Return (a message with `client_id` exists, the ids of streaming messages,
    the conversation has any message at all), in one statement."""
    sql = _statement("turn_rows", _turn_rows_sql)
    conversation = _prep(Conversation, "id", conversation_id)
    client = _prep(Message, "client_id", client_id)
    with connections[DB].cursor() as cursor:
        cursor.execute(
            sql, [conversation, client, Message.Status.STREAMING.value, conversation]
        )
        rows = cursor.fetchall()
    # Compared as the database returns it: bound and read back the same way.
    repeated = any(row_client == client for _pk, row_client, _status in rows)
    streaming = [
        pk for pk, _client, status in rows if status == Message.Status.STREAMING
    ]
    return repeated, streaming, bool(rows)


def _touch_sql() -> str:
    q = _quote
    return (
        f"UPDATE {q(Conversation._meta.db_table)} SET {q('updated_at')} = %s "
        f"WHERE {q('id')} = %s"
    )


def touch(conversation: Conversation, now: datetime.datetime) -> None:
    """Move the conversation's updated_at to `now` (one UPDATE, no signals: the
    conversation model has no receivers)."""
    sql = _statement("touch", _touch_sql)
    with connections[DB].cursor() as cursor:
        cursor.execute(
            sql,
            [
                _prep(Conversation, "updated_at", now),
                _prep(Conversation, "id", conversation.pk),
            ],
        )
    conversation.updated_at = now


def _insert_fields(model: type[Model]) -> list[Field[Any, Any]]:
    return [
        field
        for field in model._meta.local_concrete_fields
        if field is not model._meta.pk
    ]


def _insert_sql(model: type[Model]) -> Callable[[], str]:
    def build() -> str:
        fields = _insert_fields(model)
        sql = (
            f"INSERT INTO {_quote(model._meta.db_table)} "
            f"({', '.join(_quote(field.column) for field in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        if connections[DB].features.can_return_columns_from_insert:
            sql += f" RETURNING {_quote(model._meta.pk.column)}"
        return sql

    return build


def insert(instance: M) -> M:
    """Save a new `instance` (auto primary key) with one INSERT, as Model.save would
    (auto_now fields set, values prepared by their fields), without its signals:
    nothing listens to the models inserted here."""
    model = type(instance)
    sql = _statement(f"insert:{model._meta.label}", _insert_sql(model))
    connection = connections[DB]
    params = [
        field.get_db_prep_save(field.pre_save(instance, True), connection)
        for field in _insert_fields(model)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if connection.features.can_return_columns_from_insert:
            pk = cursor.fetchone()[0]
        else:
            pk = cursor.lastrowid
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = DB
    return instance


def _visible_sql(after: bool) -> Callable[[], str]:
    def build() -> str:
        table, q = Message._meta.db_table, _quote
        return (
            f"SELECT {_columns(Message, table)} FROM {q(table)} "
            f"WHERE {q(table)}.{q('conversation_id')} = %s "
            f"AND {q(table)}.{q('superseded')} = %s AND {q(table)}.{q('id')} <= %s"
            + (f" AND {q(table)}.{q('id')} > %s" if after else "")
            + f" ORDER BY {q(table)}.{q('created_at')} ASC, {q(table)}.{q('id')} ASC"
        )

    return build


def visible_messages(
    conversation_id: uuid.UUID, until_id: int, after_id: int | None
) -> list[Message]:
    """Return the conversation's visible messages with ids up to `until_id` (and
    above `after_id`), oldest first: a reply's context."""
    after = after_id is not None
    sql = _statement(f"visible:{after}", _visible_sql(after))
    params = [
        _prep(Conversation, "id", conversation_id),
        _prep(Message, "superseded", False),
        until_id,
    ]
    if after:
        params.append(after_id)
    read = _reader(Message, Message._meta.db_table)
    with connections[DB].cursor() as cursor:
        cursor.execute(sql, params)
        return [read(row) for row in cursor.fetchall()]


def _summary_sql() -> str:
    summary, message, q = Summary._meta.db_table, Message._meta.db_table, _quote
    return (
        f"SELECT {_columns(Summary, summary)} FROM {q(summary)} "
        f"INNER JOIN {q(message)} ON {q(summary)}.{q('covers_until_id')} = "
        f"{q(message)}.{q('id')} "
        f"WHERE {q(summary)}.{q('conversation_id')} = %s "
        f"AND {q(message)}.{q('superseded')} = %s "
        f"AND {q(summary)}.{q('covers_until_id')} < %s "
        f"ORDER BY {q(summary)}.{q('created_at')} DESC, {q(summary)}.{q('id')} DESC "
        f"LIMIT 1"
    )


def latest_visible_summary(
    conversation_id: uuid.UUID | str, before_message_id: int
) -> Summary | None:
    """Return the conversation's newest summary ending with a visible message older
    than `before_message_id` (chat.summaries.latest_summary's rule), or None."""
    sql = _statement("summary", _summary_sql)
    params = [
        _prep(Conversation, "id", conversation_id),
        _prep(Message, "superseded", False),
        before_message_id,
    ]
    with connections[DB].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _reader(Summary, Summary._meta.db_table)(row)


def _finish_sql(names: tuple[str, ...]) -> Callable[[], str]:
    def build() -> str:
        q = _quote
        fields: list[Field[Any, Any]] = [
            Message._meta.get_field(name)  # type: ignore[misc]
            for name in names
        ]
        assignments = ", ".join(f"{q(field.column)} = %s" for field in fields)
        return (
            f"UPDATE {q(Message._meta.db_table)} SET {assignments} "
            f"WHERE {q('id')} = %s AND {q('status')} = %s"
        )

    return build


def finish_streaming(message_id: int, values: dict[str, Any]) -> bool:
    """Set `values` (field name -> value) on the message if it is still streaming,
    in one UPDATE (no signals: nothing listens to Message); return whether it was."""
    names = tuple(values)
    sql = _statement(f"finish:{','.join(names)}", _finish_sql(names))
    connection = connections[DB]
    params = [
        Message._meta.get_field(name).get_db_prep_save(value, connection)  # type: ignore[union-attr]
        for name, value in values.items()
    ]
    params += [message_id, Message.Status.STREAMING.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount > 0
