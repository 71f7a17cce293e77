"""The project's Celery app; tasks bind to it through @shared_task."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")

app = Celery("glmweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
