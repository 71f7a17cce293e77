"""Settings of the Celery workers the media_jobs tests start: the app's own settings,
pointed at the test database (GLMWEB_TEST_DB_NAME: the SQLite file or the test_
PostgreSQL database pytest-django made) and routed to a queue of the test's own
(GLMWEB_TEST_QUEUE), so no other worker on this machine takes its messages."""

from __future__ import annotations

import os

from glmweb.settings import *  # noqa: F403
from glmweb.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["GLMWEB_TEST_DB_NAME"]
CELERY_TASK_ROUTES = {
    "media_jobs.tasks.*": {"queue": os.environ["GLMWEB_TEST_QUEUE"]},
}
