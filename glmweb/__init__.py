"""GLM Web: a self-hosted chat front-end for ZhipuAI's GLM models."""

from glmweb.celery import app as celery_app

__all__ = ("celery_app",)
