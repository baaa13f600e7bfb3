"""The development server as a whole, in headless Chromium: examples/devserver's site served with
--live-reload, its API (a WSGI application in another process) reached through --proxy, all under
``Content-Security-Policy: default-src 'self'``. The page shows the backend's notes, adds one through
the proxy, and a saved stylesheet restyles it in place: the note added stays, the page is not
reloaded."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.devtools import Browser
from tests.integration.processes import REPO, ReactorProcess

EXAMPLE = REPO / "examples" / "devserver" / "site"
ACCENT = "getComputedStyle(document.querySelector('h1')).color"
NOTES = "[...document.querySelectorAll('#notes li')].map((item) => item.textContent).join('|')"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with Browser(tmp_path / "profile") as browser:
        yield browser


def test_a_page_of_the_folder_talks_to_the_backend_and_follows_its_stylesheet(
    spawn: Callable[..., ReactorProcess], tmp_path: Path, browser: Browser
) -> None:
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site)
    backend = spawn("-b", "127.0.0.1", "-q", "--wsgi", "examples.devserver.api:app", "0")
    front = spawn(
        "-b",
        "127.0.0.1",
        "-q",
        "-d",
        str(site),
        "--live-reload",
        "--proxy",
        f"/api=http://127.0.0.1:{backend.port}/",
        "-H",
        "Content-Security-Policy: default-src 'self'",
        "0",
    )
    page = browser.open(f"http://127.0.0.1:{front.port}/")
    assert page.wait_for(NOTES).startswith("Proxied through --proxy /api|")
    page.evaluate("document.querySelector('input').value = 'Added through the proxy'")
    page.evaluate("document.querySelector('button').click()")
    assert page.wait_for(f"{NOTES}.endsWith('|Added through the proxy') && {NOTES}")
    assert page.evaluate(ACCENT) == "rgb(47, 111, 223)"
    page.evaluate("window.stillHere = true")
    css = site / "style.css"
    css.write_text(css.read_text().replace("#2f6fdf", "#c2410c"))
    page.wait_for(f"{ACCENT} === 'rgb(194, 65, 12)'")
    assert page.evaluate("window.stillHere") is True, "restyled in place, not reloaded"
    assert page.evaluate(NOTES).endswith("|Added through the proxy")
