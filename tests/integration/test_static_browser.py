"""A real browser (Debian's headless Chromium) against the server: a page loads its assets, a script
fetches a byte range into the page, and on a second visit with the same profile every asset comes
back 304 because the server says ``Cache-Control: no-cache`` (store, but revalidate each time).

Chromium must be installed (``.ci/run`` installs it): if it cannot run, this test fails, loudly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.browser import asset_site, dump_dom
from tests.integration.client import wait_until
from tests.integration.conftest import ServeStatic

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>assets</title>
<link rel="stylesheet" href="style.css"><script src="app.js"></script></head>
<body><img src="dot.svg" alt="dot"><p id="range">pending</p>
<script>
fetch("letters.txt", {headers: {Range: "bytes=2-5"}})
  .then(response => response.text().then(text => {
    document.getElementById("range").textContent = "range " + response.status + " " + text;
  }))
  .catch(error => { document.getElementById("range").textContent = "failed " + error; });
</script></body></html>
"""
ASSETS = ("/index.html", "/style.css", "/app.js", "/dot.svg")


@pytest.mark.timeout(240)
def test_a_page_loads_then_revalidates_every_asset_with_304(serve: ServeStatic, tmp_path: Path, docroot: Path) -> None:
    site = asset_site(tmp_path / "site", PAGE)
    log: list[tuple[str, int]] = []
    server = serve(
        root=site, cache_control="no-cache", access_log=lambda _c, _u, line, status, _s: log.append((line, status))
    )
    url = f"http://127.0.0.1:{server.port}/index.html"
    profile = tmp_path / "profile"

    first = dump_dom(url, profile)
    assert "range 206 cdef" in first, first
    assert wait_until(lambda: all((f"GET {path} HTTP/1.1", 200) in log for path in ASSETS)), log
    assert ("GET /letters.txt HTTP/1.1", 206) in log
    first_visit = len(log)

    second = dump_dom(url, profile)
    assert "range 206 cdef" in second, second
    assert wait_until(lambda: all((f"GET {path} HTTP/1.1", 304) in log[first_visit:] for path in ASSETS)), log
    assert not any(status == 200 and line.split()[1] in ASSETS for line, status in log[first_visit:]), log
