"""The state diagrams in docs/architecture.md say what the code's transition tables say, every piece
of code README.md and docs/ name exists, and every command docs/tutorial prints runs and prints what
it says."""

from __future__ import annotations

import ast
import doctest
import re
from pathlib import Path

import pytest

from reactor.http.state import TRANSITIONS
from reactor.net.iostate import IO_TRANSITIONS
from tests.tutorial.tryit import run_chapter, try_it_blocks

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


# docs/tutorial names the real code as `file.py:Name.attribute` (or a bare `file.py` or `folder/`) and
# its own tests as `test_...`: each must exist, so the tutorial follows the code when it moves.
REPO = ARCHITECTURE.parents[1]
TUTORIAL = sorted((REPO / "docs" / "tutorial").glob("*.md"))
CODE_REFERENCE = re.compile(r"`((?:reactor|handlers|examples|tests|loadtest)/[\w/.-]*)(?::([\w.]+))?`")
TEST_REFERENCE = re.compile(r"`(test_\w+)`")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def defined_names(tree: ast.Module | ast.ClassDef) -> dict[str, ast.AST]:
    """The functions, classes and assigned names at the top of a module or class body."""
    names: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, ast.Assign):
            names.update((target.id, node) for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
    return names


def resolves(path: Path, qualified: str) -> bool:
    scope: ast.AST = ast.parse(path.read_text())
    for part in qualified.split("."):
        if not isinstance(scope, (ast.Module, ast.ClassDef)) or part not in defined_names(scope):
            return False
        scope = defined_names(scope)[part]
    return True


def test_the_tutorial_has_its_chapters_and_programs() -> None:
    assert len(TUTORIAL) >= 10  # the index and nine chapters
    programs = sorted(path.name for path in (REPO / "examples" / "tutorial").glob("step*.py"))
    assert len(programs) == 9
    index = (REPO / "docs" / "tutorial" / "README.md").read_text()
    assert all(program in index for program in programs)


@pytest.mark.parametrize("chapter", TUTORIAL, ids=lambda path: path.name)
def test_every_file_and_function_the_tutorial_names_exists(chapter: Path) -> None:
    text = chapter.read_text()
    references = CODE_REFERENCE.findall(text)
    assert references or chapter.name == "README.md"
    for file, qualified in references:
        path = REPO / file
        assert path.exists(), f"{chapter.name}: {file} does not exist"
        if qualified:
            assert path.suffix == ".py" and resolves(path, qualified), f"{chapter.name}: no {qualified} in {file}"
    tests = "".join(path.read_text() for path in (REPO / "tests" / "tutorial").glob("test_*.py"))
    for name in TEST_REFERENCE.findall(text):
        assert f"def {name}(" in tests, f"{chapter.name}: no test {name}"
    for link in LINK.findall(text):
        if "://" not in link:
            assert (chapter.parent / link).resolve().exists(), f"{chapter.name}: broken link {link}"


# README.md and docs/ name code as a path (`reactor/net/transport.py:Transport.write`, a folder, a data
# file) or, where the folder is clear, by its file's name alone (`deadline.py:Deadline.set`): no two
# modules share a name (tests/test_imports.py), so each such name finds one file. Every name must
# exist, and every module `python -m` runs, so that moving or renaming code cannot leave a page behind.
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
PATH_REFERENCE = re.compile(
    r"(?<![\w/.-])((?:reactor|handlers|examples|tests|loadtest|docs)/[\w/.-]*\w/?)(?::([A-Za-z_][\w.]*\w))?"
)
NAME_REFERENCE = re.compile(r"(?<![\w/.-])(\w+\.py)(?::([A-Za-z_][\w.]*\w))?")
MODULE_RUN = re.compile(r"python3? -m ((?:reactor|handlers|loadtest|tests|examples)(?:\.\w+)*)")
GENERATED = ("loadtest/results",)  # what the benchmarks write, absent from a clone


def files_named(name: str) -> list[Path]:
    return [
        path for top in ("reactor", "handlers", "loadtest", "examples", "tests") for path in (REPO / top).rglob(name)
    ]


@pytest.mark.parametrize("page", DOCS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_file_function_and_module_the_docs_name_exists(page: Path) -> None:
    text = page.read_text()
    for file, qualified in PATH_REFERENCE.findall(text):
        if file.startswith(GENERATED):
            continue
        path = REPO / file
        assert path.exists(), f"{page.name}: {file} does not exist"
        if qualified and path.suffix == ".py":
            assert resolves(path, qualified), f"{page.name}: no {qualified} in {file}"
    for name, qualified in NAME_REFERENCE.findall(text):
        paths = files_named(name)
        assert paths, f"{page.name}: no file {name}"
        if qualified:
            assert any(resolves(path, qualified) for path in paths), f"{page.name}: no {qualified} in {name}"
    for module in MODULE_RUN.findall(text):
        base = REPO / module.replace(".", "/")
        assert base.with_suffix(".py").exists() or (base / "__main__.py").exists(), f"{page.name}: no module {module}"


# Every chapter ends with a Try it section, and every sh block of docs/tutorial runs, exactly as
# printed, in one shell per file, and prints the lines its "You should see:" block shows
# (tests/tutorial/tryit.py says how; port 8000 becomes a free port of four digits).
CHAPTERS = [path for path in TUTORIAL if path.name != "README.md"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_every_chapter_ends_with_try_it(chapter: Path) -> None:
    text = chapter.read_text()
    sections = re.findall(r"^## (.+)$", text, re.M)
    assert sections and sections[-1] == "Try it", f"{chapter.name}: the last section is not Try it"
    assert try_it_blocks(text.split("\n## Try it\n")[1], chapter.name), f"{chapter.name}: no command to try"


@pytest.mark.parametrize("chapter", TUTORIAL, ids=lambda path: path.name)
def test_every_try_it_block_runs_as_printed(chapter: Path, tmp_path: Path) -> None:
    if not try_it_blocks(chapter.read_text(), chapter.name):
        pytest.skip(f"{chapter.name} prints no command")
    failures = run_chapter(chapter, REPO, tmp_path)
    assert not failures, "\n\n".join(failures)


def test_the_tutorial_python_sessions_run_as_printed() -> None:
    sessions = [
        (chapter.name, block)
        for chapter in TUTORIAL
        for block in re.findall(r"```pycon\n(.*?)```", chapter.read_text(), re.S)
    ]
    assert sessions
    for name, block in sessions:
        test = doctest.DocTestParser().get_doctest(block, {}, name, name, 0)
        runner = doctest.DocTestRunner()
        output: list[str] = []
        runner.run(test, out=output.append)
        assert not runner.failures, "".join(output)
