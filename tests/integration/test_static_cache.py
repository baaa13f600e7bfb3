"""The static handler's in-memory caches: small files and rendered listings, trusted for a second.

A fake clock drives the trust interval, so each test says exactly when the server looks at the disk
again: no sleeping, no luck.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers.static import listing
from handlers.static.filecache import CACHED_FILE_LIMIT
from handlers.static.options import StaticOptions
from handlers.static.staticfiles import StaticFiles
from reactor.http.events import Headers, Request
from reactor.testing import FakeClock
from tests.conftest import LiveServer
from tests.integration.client import Response
from tests.integration.static_helpers import fetch


class Served:
    def __init__(self, root: Path, options: StaticOptions | None = None) -> None:
        self.clock = FakeClock()
        self.handler = StaticFiles(str(root), options, clock=self.clock)
        self.server = LiveServer(self.handler)
        self.port = self.server.port

    def get(self, target: str, headers: list[tuple[str, str]] | None = None, method: str = "GET") -> Response:
        return fetch(self.port, target, headers or [], method)


@pytest.fixture
def served(docroot: Path) -> Iterator[Served]:
    served = Served(docroot)
    yield served
    served.server.stop()


def without_date(response: Response) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status, [field for field in response.headers if field[0] != "Date"], response.body


def test_cached_answers_are_the_same_bytes_as_the_first(served: Served) -> None:
    for target in ("/hello.txt", "/site/", "/listed/", "/listed/?sort=size&order=desc"):
        first = served.get(target)
        again = served.get(target)
        assert without_date(again) == without_date(first), target
    head_first = served.get("/page.html", method="HEAD")
    head_again = served.get("/page.html", method="HEAD")
    assert without_date(head_again) == without_date(head_first)
    assert head_again.header("Content-Length") == str(len(served.get("/page.html").body))


def test_a_cached_file_answers_304_like_the_full_path(served: Served, docroot: Path) -> None:
    etag = served.get("/hello.txt").header("ETag") or ""
    cached_304 = served.get("/hello.txt", [("If-None-Match", etag)])
    assert cached_304.status == 304
    fresh = Served(docroot)
    try:
        uncached_304 = fresh.get("/hello.txt", [("If-None-Match", etag)])
    finally:
        fresh.server.stop()
    assert without_date(cached_304) == without_date(uncached_304)


def test_ranges_on_a_cached_file_are_still_answered(served: Served) -> None:
    served.get("/hello.txt")
    response = served.get("/hello.txt", [("Range", "bytes=0-4")])
    assert response.status == 206 and response.body == b"hello"


def test_a_changed_file_is_served_fresh_after_the_trust_interval(served: Served, docroot: Path) -> None:
    assert served.get("/hello.txt").body == b"hello world\n"
    (docroot / "hello.txt").write_bytes(b"changed\n")
    assert served.get("/hello.txt").body == b"hello world\n", "trusted for up to a second: no stat"
    served.clock.advance(1.0)
    response = served.get("/hello.txt")
    assert response.body == b"changed\n"
    assert response.header("Content-Length") == "8"


def test_a_deleted_file_becomes_404_after_the_trust_interval(served: Served, docroot: Path) -> None:
    assert served.get("/hello.txt").status == 200
    os.unlink(docroot / "hello.txt")
    served.clock.advance(1.0)
    assert served.get("/hello.txt").status == 404


def test_a_symlink_turned_outward_is_refused_after_the_trust_interval(served: Served, docroot: Path) -> None:
    assert served.get("/link-in.txt").status == 200
    os.unlink(docroot / "link-in.txt")
    os.symlink(docroot.parent / "outside" / "secret.txt", docroot / "link-in.txt")
    served.clock.advance(1.0)
    response = served.get("/link-in.txt")
    assert response.status == 403
    assert b"secret" not in response.body


def test_a_new_index_file_takes_over_a_cached_one(served: Served, docroot: Path) -> None:
    (docroot / "site" / "index.htm").write_text("htm")
    os.unlink(docroot / "site" / "index.html")
    assert served.get("/site/").body == b"htm"
    (docroot / "site" / "index.html").write_text("html")
    served.clock.advance(1.0)
    assert served.get("/site/").body == b"html"


def test_a_new_sibling_is_offered_after_the_trust_interval(served: Served, docroot: Path) -> None:
    accept = [("Accept-Encoding", "gzip")]
    assert served.get("/page.html", accept).header("Content-Encoding") is None
    (docroot / "page.html.gz").write_bytes(gzip.compress((docroot / "page.html").read_bytes()))
    served.clock.advance(1.0)
    assert served.get("/page.html", accept).header("Content-Encoding") == "gzip"


def test_large_files_are_not_cached_but_still_served(served: Served, docroot: Path) -> None:
    data = os.urandom(CACHED_FILE_LIMIT + 1)
    (docroot / "large.bin").write_bytes(data)
    assert served.get("/large.bin").body == data
    (docroot / "large.bin").write_bytes(data[::-1])
    assert served.get("/large.bin").body == data[::-1], "sent from the disk every time"


def test_a_listing_shows_new_entries_after_the_trust_interval(served: Served, docroot: Path) -> None:
    assert b"new.txt" not in served.get("/listed/").body
    (docroot / "listed" / "new.txt").write_text("new")
    assert b"new.txt" not in served.get("/listed/").body, "trusted for up to a second"
    served.clock.advance(1.0)
    assert b"new.txt" in served.get("/listed/").body


def test_a_listing_shows_changed_sizes_within_its_maximum_age(served: Served, docroot: Path) -> None:
    first = served.get("/listed/?format=x", [("Accept", "application/json")]).body
    (docroot / "listed" / "b.txt").write_text("b" * 5000)  # the directory's mtime does not move
    served.clock.advance(1.0)
    assert served.get("/listed/?format=x", [("Accept", "application/json")]).body == first
    served.clock.advance(10.0)
    assert b"5000" in served.get("/listed/?format=x", [("Accept", "application/json")]).body


def test_a_retargeted_directory_symlink_lists_its_new_target(served: Served, docroot: Path) -> None:
    for name in ("A", "B"):
        (docroot / name).mkdir()
        (docroot / name / f"only-in-{name}.txt").write_text(name)
    os.symlink(docroot / "A", docroot / "docs")
    assert b"only-in-A" in served.get("/docs/").body
    os.unlink(docroot / "docs")
    os.symlink(docroot / "B", docroot / "docs")
    served.clock.advance(1.0)  # A itself is unchanged: its scan stays current for LISTING_MAX_AGE
    body = served.get("/docs/").body
    assert b"only-in-B" in body and b"only-in-A" not in body


def test_a_missing_path_that_appears_is_served_after_the_trust_interval(served: Served, docroot: Path) -> None:
    assert served.get("/later.txt").status == 404
    (docroot / "later.txt").write_text("here now")
    assert served.get("/later.txt").status == 404, "remembered as missing for up to a second"
    served.clock.advance(1.0)
    assert served.get("/later.txt").body == b"here now"


def test_aliases_of_a_file_are_answered_but_not_kept(served: Served) -> None:
    for alias in ("/hello.txt", "/./hello.txt", "//hello.txt", "/%68ello.txt", "/site/../hello.txt"):
        assert served.get(alias).body == b"hello world\n", alias
    assert len(served.handler._file_cache._answers) == 1, "one entry, under the canonical path"


def test_a_directory_is_read_once_for_every_order_and_format(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_scan = listing.scan

    def counting_scan(directory: str, **options: object) -> list[listing.Entry]:
        calls.append(directory)
        return real_scan(directory, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(listing, "scan", counting_scan)
    for query in ("", "?sort=size", "?sort=time&order=desc"):
        assert served.get(f"/listed/{query}").status == 200
        assert served.get(f"/listed/{query}", [("Accept", "application/json")]).status == 200
    assert len(calls) == 1


def _request(method: str, path: str, *fields: tuple[str, str]) -> Request:
    return Request(method, path, path, "", "HTTP/1.1", Headers([("host", "h"), *fields]), "h", None, False, True, False)


def test_the_prepared_answer_is_the_cached_answer_and_only_that(served: Served, docroot: Path) -> None:
    prepared = served.handler.prepared_answer
    assert prepared(_request("GET", "/hello.txt")) is None  # nothing kept yet: the full path answers
    etag = served.get("/hello.txt").header("ETag") or ""
    answer = prepared(_request("GET", "/hello.txt"))
    assert answer is not None and (answer.status, answer.body) == (200, b"hello world\n")
    assert prepared(_request("HEAD", "/hello.txt")) is answer  # framed per method when sent
    not_modified = prepared(_request("GET", "/hello.txt", ("if-none-match", etag)))
    assert not_modified is not None and not_modified.status == 304
    for refused in (
        _request("POST", "/hello.txt"),
        _request("GET", "/hello.txt", ("range", "bytes=0-1")),
        _request("GET", "/hello.txt", ("if-match", '"other"')),
        _request("GET", "/page.html"),
    ):
        assert prepared(refused) is None
    assert served.get("/nothing-here").status == 404
    missing = prepared(_request("GET", "/nothing-here"))
    assert missing is not None and missing.status == 404


def test_a_404_page_of_the_sites_own_is_never_a_prepared_answer(docroot: Path) -> None:
    (docroot / "404.html").write_text("<p>not here</p>")
    served = Served(docroot, StaticOptions(error_pages={404: "/404.html"}))
    try:
        assert served.get("/nothing-here").body == b"<p>not here</p>"
        assert served.handler.prepared_answer(_request("GET", "/nothing-here")) is None
        assert served.get("/nothing-here").body == b"<p>not here</p>"
    finally:
        served.server.stop()
