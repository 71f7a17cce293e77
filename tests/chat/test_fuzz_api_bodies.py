"""Fuzzing the JSON API (issue 13, item 7): every /api/ URL of the URLconf gets POST,
PATCH and PUT bodies that are valid ones mutated (fields dropped, wrong kinds, huge
values, deep nesting, lone surrogates, unknown fields) or not JSON at all (random
bytes, invalid UTF-8). The answer is never a 500: a 4xx carries the API's JSON error,
and a refused body changes no row. A known field given a value of the wrong JSON kind
is refused, never coerced (a list saved as the text "['a']")."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from django.urls import get_resolver, reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.chat.access_world import (
    all_urls,
    build_world,
    snapshot,
    urls_with_arguments,
)
from tests.chat.fuzzing import fuzz_settings, mutated_objects, raw_bodies
from tests.chat.test_access_control import OWNED_URLS

_SETTINGS = {
    "model": "glm-4-flash",
    "system_prompt": "be brief",
    "temperature": 0.5,
    "top_p": 0.9,
    "max_tokens": 100,
    "web_search": False,
    "thinking": False,
}
_CONVERSATION = {"title": "t", "pinned": False, "archived": False, **_SETTINGS}
_PRESET = {"name": "n", "system_prompt": "p"}
# A valid body of each URL that reads one (the others get {} to mutate).
VALID_BODIES: dict[str, dict[str, Any]] = {
    "chat:api_conversations": _CONVERSATION,
    "chat:api_conversation": _CONVERSATION,
    "chat:api_presets": _PRESET,
    "chat:api_preset": _PRESET,
    "chat:api_conversation_greeting": {"index": 0},
}
# The JSON kinds each known field takes.
KINDS: dict[str, set[str]] = {
    # null for a text: "no text" (then refused where one is required).
    "title": {"string", "null"},
    "name": {"string", "null"},
    "system_prompt": {"string", "null"},
    "pinned": {"boolean"},
    "archived": {"boolean"},
    "web_search": {"boolean"},
    "thinking": {"boolean"},
    "model": {"string"},
    "temperature": {"number", "null"},
    "top_p": {"number", "null"},
    "max_tokens": {"integer", "null"},
    "index": {"integer"},
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number" if math.isfinite(value) else "not finite"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


def _expected_kind(field: str, kind: str) -> bool:
    allowed = KINDS.get(field)
    if allowed is None:
        return True
    return kind in allowed or (kind == "integer" and "number" in allowed)


def api_urls() -> list[str]:
    """Return the name of every URL under /api/ (with or without an id)."""
    return sorted(
        name
        for name, _keywords in all_urls(get_resolver())
        if name.startswith("chat:api_")
    )


# The API URLs that read no JSON body, and what they do with one.
NO_JSON_BODY = {
    "chat:api_attachment": "DELETE only",
    "chat:api_attachment_copy": "POST without a body (json_body=False)",
    "chat:api_attachments": "a multipart upload (tests/chat/test_attachments.py)",
    "chat:api_conversation_messages": "GET only",
    "chat:api_conversation_restore": "POST without a body (json_body=False)",
    "chat:api_export_json": "GET only",
    "chat:api_export_markdown": "GET only",
    "chat:api_models": "GET only",
}


def test_every_api_url_reading_json_is_fuzzed():
    ids = urls_with_arguments()
    assert set(VALID_BODIES) | set(NO_JSON_BODY) == set(api_urls())
    for name in VALID_BODIES:
        assert name in OWNED_URLS or name not in ids, name


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(NO_JSON_BODY))
def test_api_urls_without_a_json_body_ignore_one(name, owner_client):
    client, world = owner_client
    for method in ("POST", "PATCH", "PUT"):
        before = snapshot()
        body = b"[" * 5000
        response = client.generic(method, _url(name, world), body, "application/json")
        _check(response, before)


@pytest.fixture
def owner_client(client, user, media_root):
    world = build_world(user)
    client.force_login(user)
    return client, world


def _url(name: str, world: Any) -> str:
    keywords = OWNED_URLS.get(name, {})
    return reverse(name, kwargs={k: world.ids[v][0] for k, v in keywords.items()})


def _check(response: Any, before: dict[str, Any]) -> None:
    assert response.status_code < 500
    if response.status_code >= 400:
        error = json.loads(response.content)["error"]
        assert error["code"] and error["message"], error
        assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(VALID_BODIES))
@fuzz_settings
@given(data=st.data())
def test_mutated_bodies_are_refused_with_a_json_error(name, owner_client, data):
    client, world = owner_client
    method = data.draw(st.sampled_from(["POST", "PATCH", "PUT"]))
    valid = VALID_BODIES.get(name, {})
    text, replaced = data.draw(mutated_objects(valid, list(KINDS)))
    body = text.encode("utf-8", "surrogatepass")
    before = snapshot()
    response = client.generic(method, _url(name, world), body, "application/json")
    _check(response, before)
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        decoded = None
    if response.status_code < 300 and decoded is not None and name in VALID_BODIES:
        for field in replaced & set(valid):
            if field in decoded:
                kind = _kind(decoded[field])
                assert _expected_kind(field, kind), (field, kind, response.content)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(VALID_BODIES))
@fuzz_settings
@given(body=raw_bodies, method=st.sampled_from(["POST", "PATCH"]))
def test_raw_bodies_are_answered_without_a_500(name, owner_client, body, method):
    client, world = owner_client
    before = snapshot()
    response = client.generic(method, _url(name, world), body, "application/json")
    _check(response, before)


_OF_EACH_KIND = [
    ("string", "5"),
    ("integer", 5),
    ("number", 0.5),
    ("boolean", True),
    ("null", None),
    ("list", ["a"]),
    ("object", {"a": 1}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(VALID_BODIES))
@fuzz_settings
@given(data=st.data())
def test_a_field_of_the_wrong_kind_is_refused_not_coerced(name, owner_client, data):
    client, world = owner_client
    valid = VALID_BODIES[name]
    field = data.draw(st.sampled_from(sorted(valid)))
    kind, value = data.draw(
        st.sampled_from(
            [(k, v) for k, v in _OF_EACH_KIND if not _expected_kind(field, k)]
        )
    )
    method = "POST" if name.endswith(("s", "greeting")) else "PATCH"
    before = snapshot()
    response = client.generic(
        method,
        _url(name, world),
        json.dumps({**valid, field: value}),
        "application/json",
    )
    assert response.status_code == 400, (field, kind, response.content)
    _check(response, before)
