"""The test site, built once per test session (about 2 s and 105 MiB in a temporary folder), and our
server serving it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers.static.staticfiles import StaticFiles
from loadtest.site import Manifest, build
from tests.conftest import LiveServer


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("loadtest") / "site"
    build(root)
    return root


@pytest.fixture(scope="session")
def manifest(site: Path) -> Manifest:
    return Manifest.from_json((site / "manifest.json").read_bytes())


@pytest.fixture
def site_server(site: Path) -> Iterator[LiveServer]:
    server = LiveServer(StaticFiles(str(site)))
    yield server
    server.stop()
