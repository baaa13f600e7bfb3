"""Headless Chromium against uploads and compression: a file chosen in the listing's own form is
submitted by the browser and shows in the listing it is sent back to, and gzip-coded assets (a
script, a stylesheet, JSON) are decoded and used.

Chromium must be installed (``.ci/run`` installs it): if it cannot run, this test fails, loudly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.browser import dump_dom
from tests.integration.client import wait_until
from tests.integration.conftest import ServeStatic
from tests.integration.static_helpers import AccessRecord, fetch
from tests.integration.test_static_compression import coded

# The listing is loaded in a frame; its form gets a file (DataTransfer is how a script may fill a file
# input) and is submitted as a person would; the frame follows the 303 back to the listing.
UPLOAD_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>upload</title></head>
<body><p id="result">pending</p>
<iframe id="frame" src="/inbox/"></iframe>
<script>
const frame = document.getElementById("frame");
const result = document.getElementById("result");
let loads = 0;
frame.addEventListener("load", () => {
  loads += 1;
  const page = frame.contentDocument;
  if (loads === 1) {
    const form = page.querySelector("form");
    const input = form.querySelector("input[type=file]");
    const files = new DataTransfer();
    files.items.add(new File(["chosen in the browser\\n"], "from browser.txt", {type: "text/plain"}));
    files.items.add(new File(["second\\n"], "second.txt", {type: "text/plain"}));
    input.files = files.files;
    form.requestSubmit();
  } else {
    const names = [...page.querySelectorAll("td a")].map(link => link.textContent).filter(name => name !== "../");
    result.textContent = "listed " + frame.contentWindow.location.pathname + " " + names.join(",");
  }
});
</script></body></html>
"""

ASSETS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>assets</title>
<link rel="stylesheet" href="big.css"><script src="big.js"></script></head>
<body><p id="script">script not run</p><p id="style"></p><p id="json">pending</p>
<script>
document.getElementById("script").textContent = window.bigScript();
document.getElementById("style").textContent =
  "style " + getComputedStyle(document.body).getPropertyValue("--marker").trim();
fetch("data.json").then(response => response.json().then(rows => {
  document.getElementById("json").textContent =
    "json " + response.headers.get("content-encoding") + " " + rows.length + " " + rows[rows.length - 1].name;
})).catch(error => { document.getElementById("json").textContent = "failed " + error; });
</script></body></html>
"""


@pytest.mark.timeout(240)
def test_a_file_uploaded_through_the_listing_form_shows_in_the_listing(serve: ServeStatic, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "inbox").mkdir(parents=True)
    (site / "upload.html").write_text(UPLOAD_PAGE)
    server = serve(root=site, upload=True)

    dom = dump_dom(f"http://127.0.0.1:{server.port}/upload.html", tmp_path / "profile")

    assert "listed /inbox/ from browser.txt,second.txt" in dom, dom
    assert (site / "inbox" / "from browser.txt").read_bytes() == b"chosen in the browser\n"
    assert (site / "inbox" / "second.txt").read_bytes() == b"second\n"
    assert not list(site.rglob(".upload-*"))


@pytest.mark.timeout(240)
def test_gzip_coded_assets_are_decoded_by_the_browser(serve: ServeStatic, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(ASSETS_PAGE)
    filler = "".join(f"  /* line {number} of padding that compresses well */\n" for number in range(200))
    (site / "big.js").write_text(f"window.bigScript = function () {{\n{filler}  return 'script ran';\n}};\n")
    (site / "big.css").write_text(f":root {{ --marker: decoded; }}\n{filler}")
    rows = ",".join(f'{{"name": "row {number}", "padding": "{"x" * 40}"}}' for number in range(500))
    (site / "data.json").write_text(f"[{rows}]\n")
    server = serve(root=site)
    for asset in ("/big.js", "/big.css", "/data.json"):
        coded(server.port, asset, [("Accept-Encoding", "gzip, deflate, br")])  # compressed before the visit

    dom = dump_dom(f"http://127.0.0.1:{server.port}/", tmp_path / "profile")

    assert "script ran" in dom, dom
    assert "style decoded" in dom, dom
    assert "json gzip 500 row 499" in dom, dom
    assert fetch(server.port, "/big.js", [("Accept-Encoding", "gzip")]).header("Content-Encoding") == "gzip"


# A page of another origin (another port) tries both ways a page can write without the server's
# consent: a form it submits itself, and a fetch that needs no preflight.
FORGERY_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>forgery</title></head>
<body><p id="result">pending</p>
<form id="forged" method="post" enctype="multipart/form-data" action="TARGET" target="sink">
<input type="file" name="file"><input type="text" name="mkdir" value="forged folder">
</form>
<iframe name="sink"></iframe>
<script>
const form = document.getElementById("forged");
const files = new DataTransfer();
files.items.add(new File(["forged\\n"], "forged.txt", {type: "text/plain"}));
form.querySelector("input[type=file]").files = files.files;
const data = new FormData();
data.append("file", new File(["fetched\\n"], "fetched.txt"));
fetch("TARGET", {method: "POST", body: data, mode: "no-cors"})
  .then(() => { form.submit(); document.getElementById("result").textContent = "sent"; });
</script></body></html>
"""


@pytest.mark.timeout(240)
def test_a_page_of_another_origin_cannot_upload_or_make_a_folder(serve: ServeStatic, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    record = AccessRecord()
    victim = serve(root=target, upload=True, access_log=record)
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "index.html").write_text(FORGERY_PAGE.replace("TARGET", f"http://127.0.0.1:{victim.port}/"))
    attacker = serve(root=evil)

    dom = dump_dom(f"http://127.0.0.1:{attacker.port}/", tmp_path / "profile")

    assert "sent" in dom, dom
    assert wait_until(lambda: [status for line, status in record.entries if line.startswith("POST")] == [403, 403])
    assert sorted(os.listdir(target)) == []
