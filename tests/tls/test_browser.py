"""Headless Chromium over HTTPS: a page and its assets load, and the page is a secure context (what
people want HTTPS for: service workers, WebCrypto). The test CA is not in Chromium's store, so the
certificate check is waived with --ignore-certificate-errors; curl and http.client check it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.browser import asset_site, dump_dom
from tests.integration.client import wait_until
from tests.tls.conftest import ServeTLS

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>secure</title>
<link rel="stylesheet" href="style.css"><script src="app.js"></script></head>
<body><img src="dot.svg" alt="dot"><p id="state">pending</p>
<script>
const secure = window.isSecureContext && typeof crypto.subtle !== "undefined";
fetch("letters.txt").then(response => response.text()).then(text => {
  document.getElementById("state").textContent =
    "secure=" + secure + " app=" + window.loaded + " fetched=" + text;
});
</script></body></html>
"""
ASSETS = ("/index.html", "/style.css", "/app.js", "/dot.svg", "/letters.txt")


@pytest.mark.timeout(240)
def test_chromium_loads_a_page_and_its_assets_in_a_secure_context(serve_tls: ServeTLS, tmp_path: Path) -> None:
    site = asset_site(tmp_path / "site", PAGE)
    log: list[tuple[str, int]] = []
    server = serve_tls(root=site, access_log=lambda _c, _u, line, status, _s: log.append((line, status)))
    url = f"https://127.0.0.1:{server.port}/index.html"

    page = dump_dom(url, tmp_path / "profile", flags=("--ignore-certificate-errors",))
    assert "secure=true app=true fetched=abcdefghij" in page, page
    served = {line.split()[1] for line, status in log if status == 200}
    assert wait_until(lambda: set(ASSETS) <= {line.split()[1] for line, status in log if status == 200}), served
