"""Fixtures of the API-level tests."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def api(simulator):
    """A plain httpx client on the running simulator's API, with a valid key: the
    simulator's own tests speak the wire protocol directly, not through our client."""
    with httpx.Client(
        base_url=simulator.base_url,
        headers={"Authorization": "Bearer test-id.test-secret"},
        timeout=10,
    ) as client:
        yield client
