"""What each pytest-xdist worker keeps to itself, and which tests share one worker.

`make test` runs the suite in several processes (pytest-xdist, `-n` in pytest.ini). A
worker is a whole test session of its own: its own test database (pytest-django adds
`_gw0`, `_gw1`… to the name), simulator and Celery workers on free ports. What the
settings would otherwise point every worker at is made per worker here:

- `VAR_DIR`: the reply engine's checkpoint files (`VAR_DIR/replies`) name message ids
  of one database, and a process marks another's stale replies interrupted;
- the Redis database of `REDIS_URL`: every test empties the cache (FLUSHDB), and the
  reply engine keeps its heartbeats and checkpoints there.

Redis pub/sub channels are not per database, but the relay's are named for
conversation ids (UUIDs) and process ids, and its one shared channel carries "sockets
of user N: check your sessions", a hint a socket of a live session (or of none, as in
the consumer tests) survives: workers may run the relay side by side. The services
tests share one Redis database (TEST_REDIS_URL, db 15: heartbeats a runapp would act
on, the default Celery queue), so they run on one worker (`xdist_group`, with `--dist
loadgroup`). So do the tests sharing a fixture wider than one test (a browser, the
whole app, an SDK virtualenv, a makemessages run): each worker would set it up again.

Every worker collects the tests itself, and xdist refuses to run when their lists
differ: a parametrized test whose values are random or read the clock needs fixed `ids`.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

# "gw0", "gw1", … in an xdist worker (set before it reads settings); "" otherwise.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

# Redis databases for workers after the first (the first keeps REDIS_URL's own):
# never 0 (the default) or 13 (the benchmarks), nor 14 and 15 (CI's REDIS_URL and
# the services tests' TEST_REDIS_URL).
SPARE_REDIS_DBS = (12, 11, 10, 9, 8, 7, 6, 5)

SERVICES_GROUP = "services"


def worker_number() -> int | None:
    return int(WORKER.removeprefix("gw")) if WORKER else None


def redis_url_for_worker(url: str, number: int) -> str:
    """Return `url` on this worker's own database: its own for worker 0, a spare one
    (never the URL's) for the others."""
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    if number == 0:
        return url
    spare = [n for n in SPARE_REDIS_DBS if n != db]
    if number > len(spare):
        raise pytest.UsageError(
            f"{WORKER}: no spare Redis database left (tests/parallel_workers.py)"
        )
    return urlunsplit(parts._replace(path=f"/{spare[number - 1]}"))


def isolate_worker(settings) -> None:
    """Point this worker's settings, and the processes it starts, at its own VAR_DIR
    and Redis database. Settings are already loaded (pytest-django reads them before
    any conftest); the app reads these when it runs, and the cache and the Celery
    app are built on first use, after this."""
    number = worker_number()
    if number is None:
        return
    old_var = Path(settings.VAR_DIR)
    var_dir = old_var / f"xdist-{WORKER}"
    var_dir.mkdir(parents=True, exist_ok=True)
    if Path(settings.MEDIA_ROOT) == old_var / "media":
        settings.MEDIA_ROOT = var_dir / "media"
    settings.VAR_DIR = var_dir
    os.environ["GLMWEB_VAR_DIR"] = str(var_dir)

    old_redis = settings.REDIS_URL
    if old_redis:
        url = redis_url_for_worker(old_redis, number)
        settings.REDIS_URL = url
        os.environ["REDIS_URL"] = url
        cache = settings.CACHES["default"]
        if cache.get("LOCATION") == old_redis:
            cache["LOCATION"] = url
        if settings.CELERY_BROKER_URL == old_redis:
            settings.CELERY_BROKER_URL = url


def shared_fixture_group(item: pytest.Item) -> str | None:
    """Return the xdist group `item` must run in, or None (any worker)."""
    if item.get_closest_marker("services") or "redis_url" in item.fixturenames:  # type: ignore[attr-defined]
        return SERVICES_GROUP
    # Fixtures of the root conftest and of plugins (base id "tests" or "") are set
    # up once per worker and cheap enough; others wider than a test are grouped by
    # where the outermost one is defined (so a module's own fixture joins its
    # package's group).
    bases = [
        definitions[-1].baseid
        for definitions in item._fixtureinfo.name2fixturedefs.values()  # type: ignore[attr-defined]
        if definitions
        and definitions[-1].scope != "function"
        and definitions[-1].baseid not in {"", "tests"}
    ]
    return min(bases, key=len) if bases else None
