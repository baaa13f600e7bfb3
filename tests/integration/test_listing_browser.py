"""The directory listing in headless Chromium: light and dark as the user's scheme says
(``color-scheme: light dark``), and readable on a phone-sized screen."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import LiveServer
from tests.integration.browser import dump_dom, screenshot
from tests.integration.conftest import ServeStatic
from tests.integration.png import pixels

LONG_NAME = "a-file-with-a-name-far-too-long-for-a-phone-screen-" * 3 + ".txt"


def listing(serve: ServeStatic, docroot: Path) -> LiveServer:
    for index in range(12):
        (docroot / "listed" / f"report-{index:02}.pdf").write_bytes(b"x" * (index * 5000))
    (docroot / "listed" / LONG_NAME).write_text("long")
    return serve()


def luminance(colour: bytes) -> float:
    red, green, blue = colour
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def background_and_text(shot: Path) -> tuple[float, float]:
    """The luminance of the most common colour (the background) and the share of other pixels."""
    colours = pixels(shot)
    background, count = colours.most_common(1)[0]
    return luminance(background), 1 - count / sum(colours.values())


def test_the_listing_follows_the_light_and_the_dark_scheme(serve: ServeStatic, docroot: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{listing(serve, docroot).port}/listed/"
    light, dark = tmp_path / "light.png", tmp_path / "dark.png"
    screenshot(url, tmp_path / "profile-light", light, (1280, 600))
    screenshot(url, tmp_path / "profile-dark", dark, (1280, 600), "--force-dark-mode")
    light_background, light_drawn = background_and_text(light)
    dark_background, dark_drawn = background_and_text(dark)
    assert light_background > 230, "a light page on a light background"
    assert dark_background < 50, "a dark background when the user prefers dark"
    assert light_drawn > 0.01 and dark_drawn > 0.01, "the names are drawn in both"


# Same origin, so the outer page may measure the listing it frames at a phone's width.
MEASURE = """<!DOCTYPE html><html><body>
<iframe id="frame" src="/listed/" style="width:360px;height:640px;border:0"></iframe>
<p id="result">pending</p>
<script>
document.getElementById("frame").addEventListener("load", () => {
  const page = document.getElementById("frame").contentDocument.documentElement;
  document.getElementById("result").textContent = "scroll=" + page.scrollWidth + " client=" + page.clientWidth;
});
</script></body></html>
"""


def test_on_a_phone_width_the_listing_fits_without_sideways_scrolling(
    serve: ServeStatic, docroot: Path, tmp_path: Path
) -> None:
    (docroot / "measure.html").write_text(MEASURE)
    server = listing(serve, docroot)
    dom = dump_dom(f"http://127.0.0.1:{server.port}/measure.html", tmp_path / "profile")
    found = re.search(r"scroll=(\d+) client=(\d+)", dom)
    assert found, dom[-2000:]
    scroll, client = int(found[1]), int(found[2])
    assert client > 300 and scroll <= client, f"the listing is {scroll}px wide in a {client}px screen"
    shot = tmp_path / "phone.png"
    screenshot(f"http://127.0.0.1:{server.port}/listed/", tmp_path / "profile", shot, (360, 640))
    assert background_and_text(shot)[1] > 0.01
