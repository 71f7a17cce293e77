from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediaJobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "media_jobs"
    verbose_name = _("Videos")
