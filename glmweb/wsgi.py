"""WSGI entry point, for management tooling that wants one; the app is served by Daphne (asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")
application = get_wsgi_application()
