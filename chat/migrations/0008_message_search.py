"""Index message text for the sidebar's search (chat/search.py).

SQLite: an FTS5 table over chat_message.content with the trigram tokenizer (substring
matches, any script), filled from the existing rows and kept in sync by triggers.
PostgreSQL: a trigram GIN index on UPPER(content), what `icontains` compares.
Other databases (or an SQLite without FTS5): nothing, the search scans.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE chat_message_fts USING fts5("
    "content, content='chat_message', content_rowid='id', tokenize='trigram')",
    "INSERT INTO chat_message_fts(rowid, content) SELECT id, content FROM chat_message",
    "CREATE TRIGGER chat_message_fts_insert AFTER INSERT ON chat_message BEGIN "
    "INSERT INTO chat_message_fts(rowid, content) VALUES (new.id, new.content); END",
    "CREATE TRIGGER chat_message_fts_delete AFTER DELETE ON chat_message BEGIN "
    "INSERT INTO chat_message_fts(chat_message_fts, rowid, content) "
    "VALUES ('delete', old.id, old.content); END",
    # Only an update that writes the text touches the index (a reply's status and
    # usage updates do not).
    "CREATE TRIGGER chat_message_fts_update AFTER UPDATE OF content ON chat_message "
    "BEGIN "
    "INSERT INTO chat_message_fts(chat_message_fts, rowid, content) "
    "VALUES ('delete', old.id, old.content); "
    "INSERT INTO chat_message_fts(rowid, content) VALUES (new.id, new.content); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS chat_message_fts_insert",
    "DROP TRIGGER IF EXISTS chat_message_fts_delete",
    "DROP TRIGGER IF EXISTS chat_message_fts_update",
    "DROP TABLE IF EXISTS chat_message_fts",
]
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS chat_message_content_trgm "
    "ON chat_message USING gin (UPPER(content) gin_trgm_ops)",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS chat_message_content_trgm"]


def _has_fts5(schema_editor: Any) -> bool:
    try:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
            cursor.execute("DROP TABLE temp.fts5_probe")
    except DatabaseError:
        return False
    return True


def forward(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite" and _has_fts5(schema_editor):
        statements = SQLITE_FORWARD
    elif vendor == "postgresql":
        statements = POSTGRES_FORWARD
    else:
        return
    for statement in statements:
        schema_editor.execute(statement)


def backward(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}
    for statement in statements.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("chat", "0007_assistants")]

    operations = [migrations.RunPython(forward, backward)]
