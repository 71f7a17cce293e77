"""Which messages contain a search text: the one rule the sidebar's search uses.

A case-insensitive substring match, as `icontains` does it, but through an index
where the database has one, so a search over 5,000 conversations of 50 messages stays
under 200 ms (docs/performance.md):

- SQLite: the FTS5 table `chat_message_fts` (trigram tokenizer, kept in sync with
  chat_message by triggers; migration 0007) finds the messages holding every
  three-character piece of the text, and the trigram match of a quoted phrase is
  exactly "contains". Texts shorter than three characters have no trigram: they fall
  back to the plain scan, as does an SQLite built without FTS5.
- PostgreSQL: `icontains` is UPPER(content) LIKE UPPER(%text%), which the trigram GIN
  index of migration 0007 on UPPER(content) serves.
"""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from chat.models import Message

FTS_TABLE = "chat_message_fts"
# The trigram tokenizer indexes three-character pieces: shorter texts match nothing.
FTS_MIN_CHARS = 3

_fts_ready: dict[str, bool] = {}


def fts_available() -> bool:
    """Return whether this database has the FTS table (asked once per database)."""
    if connection.vendor != "sqlite":
        return False
    name = str(connection.settings_dict["NAME"])
    if name not in _fts_ready:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {FTS_TABLE} LIMIT 0")
            _fts_ready[name] = True
        except DatabaseError:
            _fts_ready[name] = False
    return _fts_ready[name]


def matching_messages(query: str) -> QuerySet[Message]:
    """Return the visible messages whose text contains `query` (case-insensitive)."""
    rows = Message.objects.filter(superseded=False)
    if len(query) >= FTS_MIN_CHARS and fts_available():
        phrase = '"' + query.replace('"', '""') + '"'
        return rows.filter(
            pk__in=RawSQL(
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [phrase]
            )
        )
    return rows.filter(content__icontains=query)
