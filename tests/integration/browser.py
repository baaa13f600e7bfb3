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


def headless_command(profile: Path, *args: str) -> list[str]:
    """The command line of a headless Chromium with ``profile``, then ``args``."""
    return [
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
        *args,
    ]


def _headless(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = headless_command(profile, *args)
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result


def dump_dom(url: str, profile: Path, virtual_time_ms: int = 10000, flags: tuple[str, ...] = ()) -> str:
    """Load ``url`` in headless Chromium with ``profile`` (and more command-line ``flags``) and return
    the DOM after ``virtual_time_ms`` of the page's own time (timers run fast; network requests still
    take real time)."""
    return _headless(profile, *flags, f"--virtual-time-budget={virtual_time_ms}", "--dump-dom", url).stdout


def dump_dom_and_console(url: str, profile: Path, virtual_time_ms: int = 10000) -> tuple[str, list[str]]:
    """As ``dump_dom``, with the messages the pages wrote to the console (a refusal by the
    Content-Security-Policy among them)."""
    result = _headless(
        profile, "--enable-logging=stderr", "--v=0", f"--virtual-time-budget={virtual_time_ms}", "--dump-dom", url
    )
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def screenshot(url: str, profile: Path, path: Path, size: tuple[int, int] = (1280, 600), *flags: str) -> None:
    """Load ``url`` and write what the window shows to ``path`` as a PNG; ``flags`` go to Chromium
    (``--force-dark-mode``: the page is told the user prefers a dark scheme)."""
    window = f"--window-size={size[0]},{size[1]}"
    _headless(profile, window, "--virtual-time-budget=2000", f"--screenshot={path}", *flags, url)
    assert path.stat().st_size > 0


def asset_site(folder: Path, page: str) -> Path:
    """``folder`` made into a small site: ``index.html`` holding ``page``, with the stylesheet,
    script, image and text file such a page loads."""
    folder.mkdir()
    (folder / "index.html").write_text(page)
    (folder / "style.css").write_text("body { font-family: sans-serif; }\n")
    (folder / "app.js").write_text("window.loaded = true;\n")
    (folder / "dot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect/></svg>\n')
    (folder / "letters.txt").write_text("abcdefghij")
    return folder
