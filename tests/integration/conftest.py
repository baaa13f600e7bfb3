"""Fixtures for the static-file tests: a live server built from StaticOptions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers.options import StaticOptions
from handlers.static import StaticFiles
from tests.conftest import LiveServer

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
