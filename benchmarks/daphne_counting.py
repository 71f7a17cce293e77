"""Run the web server exactly as `python -m glmweb.serve ...` does (Daphne, or uvicorn
with GLMWEB_WEB_SERVER=uvicorn), counting every database statement.

    python benchmarks/daphne_counting.py -b 127.0.0.1 -p 8000 glmweb.asgi:application

The benchmarks start the server through this wrapper so the app's code stays unchanged:
a `connection_created` receiver puts a counting wrapper on each new database connection
(every thread's, through `connection.execute_wrappers`), and SIGUSR1 writes the totals
so far to the JSON file named by `BENCH_STATEMENTS_FILE` (written to a temporary name,
then renamed, so a reader never sees half a file):

    {"statements": 123, "by_verb": {"SELECT": 80, "INSERT": 20, ...}, "pid": ...}

A statement is one `cursor.execute()` or `executemany()` call (an `executemany` of 50
rows counts once), including the `BEGIN` Django issues for SQLite's IMMEDIATE
transactions; commits and rollbacks go through the driver's own methods and are not
counted. The totals are written again when the process exits normally.

`BENCH_DAPHNE_LOOP=asyncio` runs stock Daphne on the standard asyncio loop instead of
`glmweb.serve` (uvloop), for comparing the two.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent

_lock = threading.Lock()
_by_verb: Counter[str] = Counter()


def _verb(sql: Any) -> str:
    text = sql if isinstance(sql, str) else str(sql)
    return text.lstrip().split(None, 1)[0].upper() if text.strip() else "?"


def _count(execute, sql, params, many, context):  # noqa: ANN001 - Django's signature
    verb = _verb(sql)
    with _lock:
        _by_verb[verb] += 1
    return execute(sql, params, many, context)


def _install_counter(sender: Any, connection: Any, **kwargs: Any) -> None:
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


def _write_totals(*_: Any) -> None:
    target = os.environ.get("BENCH_STATEMENTS_FILE")
    if not target:
        return
    # No lock here: a signal handler runs on the main thread, which may hold it. A
    # plain dict copy is atomic under the GIL.
    by_verb = dict(_by_verb)
    totals = {
        "statements": sum(by_verb.values()),
        "by_verb": by_verb,
        "pid": os.getpid(),
    }
    partial = f"{target}.{os.getpid()}.tmp"
    Path(partial).write_text(json.dumps(totals))
    os.replace(partial, target)


def main() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")
    from django.db.backends.signals import connection_created

    connection_created.connect(_install_counter, weak=False)
    signal.signal(signal.SIGUSR1, _write_totals)
    atexit.register(_write_totals)

    if os.environ.get("BENCH_DAPHNE_LOOP", "uvloop") == "uvloop":
        # What runapp runs: GLMWEB_WEB_SERVER on uvloop (glmweb/serve.py).
        from glmweb import serve

        serve.main()
    else:
        from daphne.cli import CommandLineInterface

        sys.argv[0] = "daphne"
        CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
