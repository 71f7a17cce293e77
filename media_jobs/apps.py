from django.apps import AppConfig


class MediaJobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "media_jobs"
