"""Server-side timings for benchmarks/long_histories.py: the sidebar's search and its
pages through chat.conversations, median of N, with the FTS5 index and without it.

Run with GLMWEB_VAR_DIR pointing at a database long_histories_data.py filled:
    long_histories_search.py RUNS QUERIES_JSON USERNAME   (prints JSON)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")


def median_ms(call: Callable[[], object], runs: int) -> float:
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection

    from chat import conversations, search

    runs, queries = int(sys.argv[1]), json.loads(sys.argv[2])
    user = User.objects.get(username=sys.argv[3])

    def listing(**options: Any) -> Callable[[], object]:
        return lambda: conversations.list_conversations(user, **options)

    out: dict[str, Any] = {"fts": search.fts_available(), "search": {}, "scan": {}}
    for query in queries:
        hits = len(conversations.list_conversations(user, query=query).hits)
        out["search"][query] = [median_ms(listing(query=query), runs), hits]
    # The same searches without the index: what the plain scan costs.
    search._fts_ready[str(connection.settings_dict["NAME"])] = False
    for query in queries:
        out["scan"][query] = median_ms(listing(query=query), runs)
    out["sidebar_first_page_ms"] = median_ms(listing(), runs)
    cursor = conversations.list_conversations(user).next_cursor or ""
    for _ in range(25):
        cursor = conversations.list_conversations(user, cursor=cursor).next_cursor or ""
    out["sidebar_page_27_ms"] = median_ms(listing(cursor=cursor), runs)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
