"""The server's own pages under the strict policy the README shows, in headless Chromium: with
``-H "Content-Security-Policy: default-src 'self'"`` the listing keeps its style and its forms
(upload files, make a folder), the status page its style and script, and error pages render; the
browser reports no refusal.

Chromium must be installed (``.ci/run`` installs it): if it cannot run, this test fails, loudly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.browser import dump_dom_and_console
from tests.integration.processes import ReactorProcess

STRICT = "Content-Security-Policy: default-src 'self'"

# The page that drives the test is under the same policy, so its script is a file of its own.
HARNESS = """<!doctype html>
<html><head><meta charset="utf-8"><title>csp</title><script src="harness.js" defer></script></head>
<body><p id="result">pending</p></body></html>
"""

HARNESS_SCRIPT = """"use strict";
function frame(src) {
  return new Promise(resolve => {
    const element = document.createElement("iframe");
    element.addEventListener("load", () => resolve(element), {once: true});
    element.src = src;
    document.body.append(element);
  });
}
function nextLoad(element) {
  return new Promise(resolve => element.addEventListener("load", () => resolve(element), {once: true}));
}
function until(check) {
  return new Promise(resolve => { const poll = () => check() ? resolve() : setTimeout(poll, 100); poll(); });
}
async function main() {
  const facts = [];
  const listing = await frame("/inbox/");
  facts.push("listing max-width " + getComputedStyle(listing.contentDocument.body).maxWidth);
  const form = listing.contentDocument.querySelector("form[enctype='multipart/form-data']");
  const files = new DataTransfer();
  files.items.add(new File(["sent under the policy\\n"], "under policy.txt", {type: "text/plain"}));
  form.querySelector("input[type=file]").files = files.files;
  form.requestSubmit();
  await nextLoad(listing);
  const folder = listing.contentDocument.querySelector("input[name=mkdir]");
  folder.value = "made here";
  folder.form.requestSubmit();
  await nextLoad(listing);
  const names = [...listing.contentDocument.querySelectorAll("td a")].map(link => link.textContent);
  facts.push("listed " + names.filter(name => name !== "../").join(","));
  const status = await frame("/-/status");
  await until(() => Number(status.contentDocument.body.dataset.polls) >= 2);
  const card = getComputedStyle(status.contentDocument.querySelector(".card"));
  facts.push("status polls " + status.contentDocument.body.dataset.polls + " radius " + card.borderRadius);
  const error = await frame("/missing/page");
  facts.push("error " + error.contentDocument.querySelector("h1").textContent);
  document.getElementById("result").textContent = facts.join("; ");
}
main().catch(error => { document.getElementById("result").textContent = "failed " + error; });
"""


@pytest.mark.timeout(240)
def test_the_listing_its_form_the_status_page_and_error_pages_work_under_a_strict_policy(
    spawn: Callable[..., ReactorProcess], tmp_path: Path
) -> None:
    site = tmp_path / "site"
    (site / "inbox").mkdir(parents=True)
    (site / "inbox" / "already.txt").write_text("here\n")
    (site / "csp.html").write_text(HARNESS)
    (site / "harness.js").write_text(HARNESS_SCRIPT)
    server = spawn(
        "-b", "127.0.0.1", "-d", str(site), "-q", "-H", STRICT, "--upload", "--status-path", "/-/status", "0"
    )

    dom, console = dump_dom_and_console(f"http://127.0.0.1:{server.port}/csp.html", tmp_path / "profile")

    result = re.search(r'<p id="result">([^<]*)</p>', dom)
    assert result, dom[-2000:]
    facts = result.group(1)
    assert "listing max-width 960px" in facts, facts  # the listing's stylesheet applies (60em)
    assert "listed made here/,already.txt,under policy.txt" in facts, facts  # its forms post and come back
    assert re.search(r"status polls [2-9]\d* radius 6px", facts), facts  # the status page's script and style run
    assert "error 404 Not Found" in facts, facts
    assert (site / "inbox" / "under policy.txt").read_text() == "sent under the policy\n"
    assert (site / "inbox" / "made here").is_dir()
    assert not [line for line in console if "Content Security Policy" in line], console
    assert server.stop() == 0
