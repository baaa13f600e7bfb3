"""The state diagrams in docs/architecture.md say what the code's transition tables say."""

from __future__ import annotations

import re
from pathlib import Path

from reactor.http.state import TRANSITIONS
from reactor.iostate import IO_TRANSITIONS

ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
EDGE = re.compile(r"^\s*(\w+) --> (\w+)(?: : (.+))?$")


def mermaid_blocks() -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", ARCHITECTURE.read_text(), re.S)


def edges(block: str) -> list[tuple[str, str, str | None]]:
    found = []
    for line in block.splitlines():
        match = EDGE.match(line)
        if match:
            found.append((match.group(1), match.group(2), match.group(3)))
    return found


def test_the_io_state_diagram_is_the_table() -> None:
    diagram = {(source, target) for source, target, _ in edges(mermaid_blocks()[0])}
    table = {(source.value, target.value) for source, targets in IO_TRANSITIONS.items() for target in targets}
    assert diagram == table


def test_the_cycle_diagram_is_the_table() -> None:
    diagram = {(source, label, target) for source, target, label in edges(mermaid_blocks()[1]) if label}
    table = {
        (phase.name.lower(), transition.value, target.name.lower())
        for (phase, transition), target in TRANSITIONS.items()
    }
    assert diagram == table
