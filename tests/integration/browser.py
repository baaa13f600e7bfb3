"""Headless Chromium (Debian's ``chromium``, installed by ``.ci/run``) for tests that need a browser.
If it cannot run, the test fails loudly: a browser test that skips tests nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
    return path


def dump_dom(url: str, profile: Path, virtual_time_ms: int = 10000) -> str:
    """Load ``url`` in headless Chromium with ``profile`` and return the DOM after ``virtual_time_ms`` of
    the page's own time (timers run fast; network requests still take real time)."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",  # we may run as root, where the sandbox cannot start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",  # or it tries to reach Google and fails
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={virtual_time_ms}",
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result.stdout
