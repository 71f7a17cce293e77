"""The project's Celery app; tasks bind to it through @shared_task."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")

app = Celery("glmweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# `manage.py runapp` names a file here for its worker: the worker creates it once it
# takes tasks, so runapp prints its "running" line only when the whole app is up.
READY_FILE_ENV = "GLMWEB_WORKER_READY_FILE"


@worker_ready.connect
def _say_ready(**kwargs: object) -> None:
    if path := os.environ.get(READY_FILE_ENV):
        Path(path).touch()
