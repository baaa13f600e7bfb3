"""Import rules that keep the layers honest."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = ("reactor", "handlers")
FIRST_PARTY = {"reactor", "handlers"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def test_the_http_core_knows_no_sockets_selectors_or_time() -> None:
    for path in python_files("reactor/http"):
        top_level = {name.split(".")[0] for name in imported_modules(path)}
        forbidden = top_level & {"socket", "selectors", "time", "select", "ssl", "asyncio", "threading"}
        assert not forbidden, f"{path.relative_to(REPO)} imports {sorted(forbidden)}"


def test_runtime_code_uses_the_standard_library_only() -> None:
    allowed = set(sys.stdlib_module_names) | FIRST_PARTY | {"__future__"}
    for package in RUNTIME_PACKAGES:
        for path in python_files(package):
            if path.name == "testing.py":
                continue
            outside = {name.split(".")[0] for name in imported_modules(path)} - allowed
            assert not outside, f"{path.relative_to(REPO)} imports {sorted(outside)}"


def test_the_reactor_does_not_import_handlers() -> None:
    for path in python_files("reactor"):
        if path.name == "__main__.py":
            continue  # the composition root puts the two together
        assert not any(name.split(".")[0] == "handlers" for name in imported_modules(path)), path
