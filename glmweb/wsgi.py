"""WSGI entry point for tooling that wants one; Daphne serves the app (asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")
application = get_wsgi_application()
