"""The test site, built once per test session (about 2 s and 105 MiB in a temporary folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.site import Manifest, build


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("loadtest") / "site"
    build(root)
    return root


@pytest.fixture(scope="session")
def manifest(site: Path) -> Manifest:
    return Manifest.from_json((site / "manifest.json").read_bytes())
