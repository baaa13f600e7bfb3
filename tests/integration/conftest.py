"""Fixtures for the integration tests: a live static-file server built from StaticOptions, and
commands started in child processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers.static.options import StaticOptions
from handlers.static.staticfiles import StaticFiles
from tests.conftest import LiveServer
from tests.integration.processes import REPO, ChildProcess, ReactorProcess

ServeStatic = Callable[..., LiveServer]


@pytest.fixture
def serve(docroot: Path) -> Iterator[ServeStatic]:
    """``serve(root=None, access_log=None, **options)``: a LiveServer of StaticFiles over ``root``
    (default: the docroot fixture) with those StaticOptions; stopped after the test."""
    started: list[LiveServer] = []

    def start(root: Path | None = None, access_log: Any = None, **options: Any) -> LiveServer:
        handler = StaticFiles(str(root or docroot), StaticOptions(**options))
        server = LiveServer(handler, access_log=access_log)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def child_processes() -> Iterator[list[ChildProcess]]:
    """The child processes a test started; killed after it if they still run."""
    started: list[ChildProcess] = []
    yield started
    for child in started:
        child.kill()


@pytest.fixture
def spawn(child_processes: list[ChildProcess], tmp_path: Path) -> Callable[..., ReactorProcess]:
    """``spawn(*args, cwd=REPO)``: ``python -m reactor args``, its stderr in ``tmp_path/stderrN.txt``
    (N counts the children from 0)."""

    def start(*args: str, cwd: Path = REPO) -> ReactorProcess:
        server = ReactorProcess(*args, stderr_path=tmp_path / f"stderr{len(child_processes)}.txt", cwd=cwd)
        child_processes.append(server)
        return server

    return start


@pytest.fixture
def spawn_module(child_processes: list[ChildProcess], tmp_path: Path) -> Callable[..., ChildProcess]:
    """``spawn_module(module, *args)``: ``python -m module args``, its stderr as for ``spawn``."""

    def start(module: str, *args: str) -> ChildProcess:
        child = ChildProcess(module, *args, stderr_path=tmp_path / f"stderr{len(child_processes)}.txt")
        child_processes.append(child)
        return child

    return start
