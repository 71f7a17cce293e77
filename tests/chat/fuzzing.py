"""Hypothesis strategies and settings for the fuzzing suites (issue 13, item 7).

Values are drawn as JSON *text* fragments rather than Python values, so a body can
hold what no Python value serialises to: nesting thousands deep, lone surrogate
escapes, NaN, numbers past 64 bits. A frame or body is a valid one with a few
mutations: a field dropped, a field given a value of another kind (or a huge one),
an unknown field added; or raw bytes, text that is not JSON, invalid UTF-8.

Bounded: FUZZ_EXAMPLES examples per test (GLMWEB_FUZZ_EXAMPLES raises it for a long
local run), no deadline (a reply running on the simulator may slow one example), and
derandomized in CI so a failure there replays the same examples anywhere.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES = int(os.environ.get("GLMWEB_FUZZ_EXAMPLES", "30"))

settings.register_profile(
    "glmweb-fuzz",
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("CI", "").lower() == "true",
    # Examples are not kept between runs (no .hypothesis/ folder in the checkout).
    database=None,
    # One socket and one database serve every example of a test: that the socket
    # stays up across bad frames is the point.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
fuzz_settings = settings.get_profile("glmweb-fuzz")

# Fields that name an owner: never obeyed (the access-control suite checks whose
# rows they make); here they are just more unknown fields.
SURPRISE_FIELDS = ["owner", "user_id", "__proto__", "constructor", "", "type "]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _deep(depth: int, opener: str) -> str:
    closer = "]" if opener == "[" else "}"
    inner = '{"a":' if opener == "{" else "["
    return inner * depth + "1" + closer * depth


json_fragments: st.SearchStrategy[str] = st.one_of(
    _values.map(lambda v: json.dumps(v, ensure_ascii=False)),
    # Huge: long strings, big numbers, deep nesting.
    st.integers(1_000, 100_000).map(lambda n: json.dumps("字" * n, ensure_ascii=False)),
    st.integers(20, 400).map(lambda n: "9" * n),
    st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "1.5e-400", "-0"]),
    st.integers(100, 5_000).flatmap(
        lambda depth: st.sampled_from([_deep(depth, "["), _deep(depth, "{")])
    ),
    # Strings no database should be handed: NUL, lone surrogates.
    st.sampled_from(['"a\\u0000b"', '"\\ud800"', '"x\\udfff"', '"\\u0000"']),
)

# Bodies that are not a JSON object at all.
raw_bodies: st.SearchStrategy[bytes] = st.one_of(
    st.binary(max_size=200),
    st.binary(min_size=1, max_size=50).map(lambda b: b"\xff\xfe" + b),
    st.text(max_size=100).map(lambda t: t.encode()),
    st.sampled_from(
        [b"", b"{", b"[]", b"null", b"1", b'"x"', b'{"a":1,}', b"\xc3\x28", b"{}" * 3]
    ),
    json_fragments.map(lambda fragment: fragment.encode("utf-8", "surrogatepass")),
)


@st.composite
def mutated_objects(
    draw: st.DrawFn, valid: dict[str, Any], fields: list[str]
) -> tuple[str, set[str]]:
    """Return (a JSON object's text, the known fields whose value was replaced):
    `valid` with one to four mutations (drop, replace, add unknown)."""
    body: dict[str, str] = {
        name: json.dumps(value, ensure_ascii=False) for name, value in valid.items()
    }
    replaced: set[str] = set()
    known = sorted(set(fields) | set(valid))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["drop", "replace", "replace", "add"]))
        if action == "drop" and body:
            body.pop(draw(st.sampled_from(sorted(body))))
        elif action == "replace":
            name = draw(st.sampled_from(known))
            body[name] = draw(json_fragments)
            replaced.add(name)
        else:
            name = draw(st.sampled_from(SURPRISE_FIELDS) | st.text(max_size=12))
            body[name] = draw(json_fragments)
    text = "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in body.items()) + "}"
    return text, replaced
