"""Fixtures for the robustness suite: a measured server process per test, and the figures table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.robustness.harness import FIGURES, MeasuredServer

Spawn = Callable[..., MeasuredServer]


@pytest.fixture
def spawn(docroot: Path, tmp_path: Path) -> Iterator[Spawn]:
    """Start ``python -m reactor`` on ``docroot`` with the given flags; each must still be alive at the
    end of the test, and exit 0 on SIGTERM."""
    started: list[MeasuredServer] = []

    def start(*flags: str, nofile: int | None = None) -> MeasuredServer:
        server = MeasuredServer(docroot, *flags, log=tmp_path / f"server{len(started)}.log", nofile=nofile)
        started.append(server)
        return server

    yield start
    for server in started:
        alive = server.alive()
        code = server.stop()
        assert alive, f"the server died: {server.stderr_path.read_text()[-2000:]}"
        assert code == 0, f"exit code {code}: {server.stderr_path.read_text()[-2000:]}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("robustness figures (server RSS from /proc; shared machine, noisy)")
    for figures in FIGURES:
        terminalreporter.line("  ".join(f"{key}={value}" for key, value in figures.items()))
