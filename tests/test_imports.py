"""Import rules that keep the layers honest."""

from __future__ import annotations

import ast
import subprocess
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


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports() -> dict[str, set[str]]:
    """Each module of the two packages -> the project modules it imports, those imported only for
    type checking included (a circle there still ties two modules together for a reader)."""
    modules = {module_name(path): path for package in RUNTIME_PACKAGES for path in python_files(package)}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        parents = {".".join(module.split(".")[:end]) for module in imported for end in range(1, module.count(".") + 1)}
        graph[name] = {module for module in imported | parents if module in modules and module != name}
        graph[name] -= {parent for parent in graph[name] if name.startswith(parent + ".")}
    return graph


def test_no_two_modules_share_a_name() -> None:
    names = [path.name for package in RUNTIME_PACKAGES for path in python_files(package)]
    shared = {name for name in names if names.count(name) > 1} - {"__init__.py", "__main__.py"}
    assert not shared, f"modules with one name in two folders: {sorted(shared)}"


def test_no_import_circles() -> None:
    graph = project_imports()
    for start in graph:
        # Every module reachable from start; start among them is a circle.
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            module = todo.pop()
            assert module != start, f"{start} imports itself through {sorted(seen)}"
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module])


def test_package_files_import_nothing_of_the_server_eagerly() -> None:
    for package in RUNTIME_PACKAGES:
        for path in sorted((REPO / package).rglob("__init__.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            eager = [
                node
                for node in tree.body
                if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in FIRST_PARTY
            ]
            assert not eager, f"{path.relative_to(REPO)} imports {[node.module for node in eager]} on import"


def test_one_static_module_loads_no_wsgi_and_no_other_handler() -> None:
    code = "import sys, handlers.static.paths; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    ours = [name for name in loaded if name.split(".")[0] in FIRST_PARTY]
    assert ours == ["handlers", "handlers.static", "handlers.static.paths"]
