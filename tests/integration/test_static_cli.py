"""The static-file flags of ``python -m reactor``: each reaches the handler, each bad value is one line
and exit code 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.processes import ReactorProcess, run_cli
from tests.integration.static_helpers import fetch


@pytest.mark.parametrize(
    ("flags", "mentions"),
    [
        (["--mime", "org"], "EXT=TYPE"),
        (["--mime", "=text/plain"], "EXT=TYPE"),
        (["--mime", "org=not a type"], "media type"),
        (["--mime", "a/b=text/plain"], "EXT=TYPE"),
        (["--error-page", "404"], "STATUS=/PATH"),
        (["--error-page", "abc=/page.html"], "STATUS=/PATH"),
        (["--error-page", "200=/page.html"], "4xx or 5xx"),
        (["--error-page", "404=page.html"], "must start with /"),
        (["--error-page", "404=/missing.html"], "/missing.html"),
        (["--error-page", "404=/listed/"], "/listed/"),
        (["--spa", "/missing.html"], "/missing.html"),
        (["--spa", "page.html"], "must start with /"),
        (["--cache-control", "no-cache\x01"], "header value"),
        (["--cache-control", ""], "header value"),
    ],
)
def test_bad_static_flags_are_one_line_and_exit_2(docroot: Path, flags: list[str], mentions: str) -> None:
    result = run_cli("-b", "127.0.0.1", "-d", str(docroot), *flags, "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert mentions in result.stderr
    assert "Traceback" not in result.stderr


def test_every_static_flag_reaches_the_handler(spawn: Callable[..., ReactorProcess], docroot: Path) -> None:
    (docroot / ".env").write_text("SECRET=1\n")
    (docroot / "notes.org").write_text("* notes\n")
    (docroot / "page.html").write_text("custom 404\n")
    server = spawn(
        *("-b", "127.0.0.1", "-d", str(docroot), "-q", "0"),
        *("--no-listing", "--show-hidden", "--follow-symlinks", "--cache-control", "no-cache"),
        *("--error-page", "404=/page.html", "--spa", "/site/index.html", "--mime", "org=text/org", "--cors"),
    )
    port = server.port
    assert fetch(port, "/listed/").status == 403  # --no-listing
    assert fetch(port, "/.env").body == b"SECRET=1\n"  # --show-hidden
    assert fetch(port, "/link-out.txt").body == b"secret"  # --follow-symlinks
    assert fetch(port, "/hello.txt").header("Cache-Control") == "no-cache"  # --cache-control
    assert fetch(port, "/nope").body == b"custom 404\n"  # --error-page
    assert b"<title>site</title>" in fetch(port, "/app/route", [("Accept", "text/html")]).body  # --spa
    assert fetch(port, "/notes.org").header("Content-Type") == "text/org; charset=utf-8"  # --mime
    assert fetch(port, "/hello.txt").header("Access-Control-Allow-Origin") == "*"  # --cors
    assert server.stop() == 0


def test_archives_are_on_unless_no_archive(spawn: Callable[..., ReactorProcess], docroot: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "0")
    assert fetch(server.port, "/listed/?download=zip").header("Content-Type") == "application/zip"
    without = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--no-archive", "0")
    assert b"?download=" not in fetch(without.port, "/listed/").body
    assert fetch(without.port, "/listed/?download=zip").header("Content-Type") == "text/html; charset=utf-8"
    assert server.stop() == 0 and without.stop() == 0


def test_repeated_flags_accumulate(spawn: Callable[..., ReactorProcess], docroot: Path) -> None:
    (docroot / "a.org").write_text("a")
    (docroot / "b.adoc").write_text("b")
    server = spawn(
        *("-b", "127.0.0.1", "-d", str(docroot), "-q", "0"),
        *("--mime", "org=text/org", "--mime", ".adoc=text/asciidoc"),
        *("--error-page", "404=/page.html", "--error-page", "405=/hello.txt"),
    )
    assert fetch(server.port, "/a.org").header("Content-Type") == "text/org; charset=utf-8"
    assert fetch(server.port, "/b.adoc").header("Content-Type") == "text/asciidoc; charset=utf-8"
    assert b"<p>page</p>" in fetch(server.port, "/nope").body
    assert fetch(server.port, "/x", method="PUT").body == b"hello world\n"
    assert server.stop() == 0
