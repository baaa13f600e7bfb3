"""--live-reload in headless Chromium, driven over the DevTools protocol while the page stays open: a
save reloads the page within a second (the page's own navigation timing says when it loaded), a
stylesheet is swapped in place, a burst of saves reloads once, a restarted server reloads the page,
and the tabs of one browser share one stream. The pages run under
``Content-Security-Policy: default-src 'self'``, so the script must come from the server, not inline."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.client import request, wait_until
from tests.integration.devtools import Browser, Page
from tests.integration.livereload_helpers import Reloading
from tests.integration.processes import ReactorProcess

CSP = ("Content-Security-Policy", "default-src 'self'")
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>live</title>
<link rel="stylesheet" href="style.css"><script src="count.js"></script></head>
<body><p id="p">{text}</p></body></html>
"""
# The page counts its loads in the tab's session storage: a reload shows as the next number.
COUNT = 'sessionStorage.setItem("loads", String(Number(sessionStorage.getItem("loads") || 0) + 1));\n'
LOADED = "document.readyState === 'complete' && sessionStorage.getItem('loads')"
COLOUR = "getComputedStyle(document.getElementById('p')).color"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(PAGE.format(text="one"))
    (root / "style.css").write_text("p { color: rgb(1, 2, 3); }\n")
    (root / "count.js").write_text(COUNT)
    (root / "notes.txt").write_text("notes\n")
    return root


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with Browser(tmp_path / "profile") as browser:
        yield browser


def streams(port: int) -> int:
    document = json.loads(request(port, b"GET /-/status.json HTTP/1.1\r\nHost: t\r\n\r\n").body)
    return int(document["statistics"]["streams"])


def serve(spawn: Callable[..., ReactorProcess], site: Path, port: int = 0) -> ReactorProcess:
    return spawn(
        "-b",
        "127.0.0.1",
        "-d",
        str(site),
        "--live-reload",
        "--status-path",
        "/-/status",
        "-H",
        ": ".join(CSP),
        str(port),
    )


def open_page(browser: Browser, port: int) -> Page:
    page = browser.open(f"http://127.0.0.1:{port}/")
    assert page.wait_for(LOADED) == "1"
    return page


def test_a_saved_page_reloads_within_a_second(
    spawn: Callable[..., ReactorProcess], site: Path, browser: Browser
) -> None:
    server = serve(spawn, site)
    page = open_page(browser, server.port)
    assert wait_until(lambda: streams(server.port) == 1)  # the page listens (CSP let its script run)
    saved = time.time()
    (site / "index.html").write_text(PAGE.format(text="two"))
    page.wait_for(f"{LOADED} === '2' && document.getElementById('p').textContent === 'two'")
    navigation = "performance.getEntriesByType('navigation')[0]"
    assert page.evaluate(f"{navigation}.type") == "reload"
    loaded = page.evaluate(f"performance.timeOrigin + {navigation}.loadEventEnd") / 1000
    assert loaded - saved < 1.0, f"the page was loaded again {loaded - saved:.3f} s after the save"


def test_a_changed_stylesheet_restyles_the_page_without_a_reload(
    spawn: Callable[..., ReactorProcess], site: Path, browser: Browser
) -> None:
    server = serve(spawn, site)
    page = open_page(browser, server.port)
    assert page.evaluate(COLOUR) == "rgb(1, 2, 3)"
    assert wait_until(lambda: streams(server.port) == 1)
    page.evaluate("window.stillHere = true")
    (site / "style.css").write_text("p { color: rgb(4, 5, 6); }\n")
    page.wait_for(f"{COLOUR} === 'rgb(4, 5, 6)' && document.styleSheets.length === 1")  # the old one removed
    assert page.evaluate("window.stillHere === true && sessionStorage.getItem('loads')") == "1"


def test_a_burst_of_saves_reloads_the_page_once(site: Path, browser: Browser) -> None:
    server = Reloading(site, headers=(CSP,))
    try:
        page = open_page(browser, server.port)
        assert wait_until(lambda: server.hub.streams == 1)
        (site / "index.html").write_text(PAGE.format(text="two"))  # a build writing three files
        (site / "count.js").write_text(COUNT + "// rebuilt\n")
        (site / "notes.txt").write_text("rebuilt notes\n")
        page.wait_for(f"{LOADED} === '2'")
        # Settled: the reloaded page listens again and no change waits to be told.
        assert wait_until(lambda: server.live.call(lambda: server.hub.streams == 1 and not server.tree.pending))
        assert server.hub.events == 1
        assert page.evaluate("sessionStorage.getItem('loads')") == "2"
    finally:
        server.stop()


def test_a_restarted_server_makes_the_page_reload(
    spawn: Callable[..., ReactorProcess], site: Path, browser: Browser
) -> None:
    first = serve(spawn, site)
    page = open_page(browser, first.port)
    assert wait_until(lambda: streams(first.port) == 1)
    assert first.stop() == 0
    (site / "index.html").write_text(PAGE.format(text="after the restart"))  # saved while it was down
    second = serve(spawn, site, first.port)
    page.wait_for(f"{LOADED} === '2' && document.getElementById('p').textContent === 'after the restart'")
    assert wait_until(lambda: streams(second.port) == 1)


def test_the_tabs_of_one_browser_share_one_stream_and_all_reload(
    spawn: Callable[..., ReactorProcess], site: Path, browser: Browser
) -> None:
    server = serve(spawn, site)
    tabs = [open_page(browser, server.port) for _ in range(3)]
    # One tab holds the lock and listens; the two others wait for it.
    locks = "navigator.locks.query().then(state => state.held.length + ',' + state.pending.length)"
    tabs[0].wait_for(f"{locks}.then(counts => counts === '1,2')")
    assert wait_until(lambda: streams(server.port) == 1)
    (site / "index.html").write_text(PAGE.format(text="two"))
    for tab in tabs:
        tab.wait_for("document.readyState === 'complete' && document.getElementById('p').textContent === 'two'")
    assert wait_until(lambda: streams(server.port) == 1)
