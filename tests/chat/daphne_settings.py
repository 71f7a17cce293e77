"""Settings for Daphne processes started by the chat tests: the app's own settings,
pointed at the test database (GLMWEB_TEST_DB_NAME) that the test process uses."""

from __future__ import annotations

import os

from glmweb.settings import *  # noqa: F403
from glmweb.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["GLMWEB_TEST_DB_NAME"]
