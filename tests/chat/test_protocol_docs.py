"""docs/websocket.md and the code agree on the frame types, both ways: every type
the doc lists is built (server → client) or parsed (client → server), every type
built or parsed is documented, and only chat.replies.protocol builds outbound
frames."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from chat import frames
from chat.replies import protocol

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "websocket.md"


def documented_types(heading: str) -> list[str]:
    """Return the `type` cells of the table under `## heading` (up to the next
    heading), in order."""
    section = DOC.read_text().split(f"\n## {heading}\n", 1)[1].split("\n#", 1)[0]
    return re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.MULTILINE)


def built_types(path: Path) -> set[str]:
    """Return the string values of every `"type": ...` key in the module's dict
    literals."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "type"
                    and isinstance(value, ast.Constant)
                ):
                    found.add(value.value)
    return found


def test_server_frame_types_are_the_documented_ones():
    assert documented_types("Server → client") == list(protocol.FRAME_TYPES)


def test_protocol_builds_every_frame_type_it_lists_and_no_other():
    assert built_types(Path(protocol.__file__)) == set(protocol.FRAME_TYPES)


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "chat").rglob("*.py") if p.name != "protocol.py"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_other_module_builds_an_outbound_frame(path):
    assert not built_types(path) & set(protocol.FRAME_TYPES)


def parsed_types() -> set[str]:
    """Return the types chat.frames.parse compares a frame's `type` against."""
    tree = ast.parse(Path(frames.__file__).read_text())
    parse = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "parse"
    )
    return {
        node.comparators[0].value
        for node in ast.walk(parse)
        if isinstance(node, ast.Compare)
        and isinstance(node.left, ast.Name)
        and node.left.id == "kind"
        and isinstance(node.comparators[0], ast.Constant)
    }


def test_client_frame_types_are_the_documented_ones():
    assert set(documented_types("Client → server")) == parsed_types()


@pytest.mark.parametrize("kind", documented_types("Client → server"))
def test_every_documented_client_frame_type_is_understood(kind):
    try:
        frames.parse(f'{{"type": "{kind}"}}')
    except frames.FrameRefused as refused:
        assert refused.code != "unknown_type"
