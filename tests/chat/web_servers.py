"""The ASGI servers `python -m glmweb.serve` can run (GLMWEB_WEB_SERVER): tests whose
behaviour is the server's (body limits, shutdown, a shared port) import these
fixtures and run once on each."""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import SimpleNamespace

import pytest

SERVERS = ["daphne", "uvicorn"]


@pytest.fixture(params=SERVERS)
def web_server(request: pytest.FixtureRequest) -> str:
    """The server this run of the test uses ("daphne" or "uvicorn")."""
    return request.param


@pytest.fixture
def server_processes(daphne_processes, web_server) -> Callable[..., SimpleNamespace]:
    """tests/chat/conftest.py's daphne_processes, on `web_server`."""
    return functools.partial(daphne_processes, GLMWEB_WEB_SERVER=web_server)
