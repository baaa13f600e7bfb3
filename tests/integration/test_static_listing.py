"""Directory listings over real sockets: HTML people like, JSON for programs, off when asked."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.integration.client import RawClient
from tests.integration.conftest import ServeStatic
from tests.integration.static_helpers import fetch


@pytest.fixture
def sized(docroot: Path) -> Path:
    """/sized/: files of distinct sizes and times, a directory, a dot-file, a symlink out of the root."""
    folder = docroot / "sized"
    folder.mkdir()
    for name, size, mtime in [("small.txt", 10, 3000), ("large.bin", 3 << 20, 1000), ("medium.dat", 1536, 2000)]:
        (folder / name).write_bytes(b"x" * size)
        os.utime(folder / name, (mtime, mtime))
    (folder / "sub").mkdir()
    (folder / ".secret").write_text("hidden")
    os.symlink(docroot.parent / "outside" / "secret.txt", folder / "escape.txt")
    return folder


def linked_names(page: str) -> list[str]:
    return re.findall(r'<td><a href="[^"]*">([^<]*)</a></td>', page)


def test_listing_has_breadcrumb_parent_sizes_and_iso_times(serve: ServeStatic, sized: Path) -> None:
    response = fetch(serve().port, "/sized/")
    assert response.status == 200
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    assert response.header("Vary") == "Accept"
    page = response.body.decode()
    assert '<a href="/">/</a> <a href="/sized/">sized</a>/' in page
    assert '<a href="../">../</a>' in page
    assert ">3.0 MiB<" in page and ">1.5 KiB<" in page and ">10 B<" in page
    assert '<time datetime="1970-01-01T00:50:00Z">1970-01-01 00:50:00</time>' in page
    assert linked_names(page) == ["../", "sub/", "large.bin", "medium.dat", "small.txt"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?sort=size&order=desc", ["sub/", "large.bin", "medium.dat", "small.txt"]),
        ("?sort=size", ["sub/", "small.txt", "medium.dat", "large.bin"]),
        ("?sort=time&order=asc", ["sub/", "large.bin", "medium.dat", "small.txt"]),
        ("?sort=time&order=desc", ["sub/", "small.txt", "medium.dat", "large.bin"]),
        ("?sort=name&order=desc", ["sub/", "small.txt", "medium.dat", "large.bin"]),
        ("?sort=bogus", ["sub/", "large.bin", "medium.dat", "small.txt"]),
    ],
)
def test_sorting_through_the_query_string(serve: ServeStatic, sized: Path, query: str, expected: list[str]) -> None:
    page = fetch(serve().port, "/sized/" + query).body.decode()
    assert linked_names(page)[1:] == expected


def test_column_headers_link_to_the_other_orders(serve: ServeStatic, sized: Path) -> None:
    page = fetch(serve().port, "/sized/?sort=size&order=asc").body.decode()
    assert 'href="?sort=size&amp;order=desc">Size</a>' in page
    assert 'href="?sort=time&amp;order=asc">Modified (UTC)</a>' in page


def test_json_when_accept_prefers_it(serve: ServeStatic, sized: Path) -> None:
    server = serve()
    response = fetch(server.port, "/sized/?sort=size&order=desc", [("Accept", "application/json")])
    assert response.header("Content-Type") == "application/json"
    assert response.header("Vary") == "Accept"
    document = json.loads(response.body)
    assert document["path"] == "/sized/"
    assert [entry["name"] for entry in document["entries"]] == ["sub", "large.bin", "medium.dat", "small.txt"]
    assert document["entries"][1] == {
        "name": "large.bin",
        "type": "file",
        "size": 3 << 20,
        "modified": "1970-01-01T00:16:40Z",
        "url": "large.bin",
    }
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert fetch(server.port, "/sized/", [("Accept", browser)]).header("Content-Type") == "text/html; charset=utf-8"


def test_dot_names_and_escaping_symlinks_are_not_listed(serve: ServeStatic, sized: Path) -> None:
    page = fetch(serve().port, "/sized/").body.decode()
    assert ".secret" not in page and "escape.txt" not in page


def test_show_hidden_and_follow_symlinks_list_them(serve: ServeStatic, sized: Path) -> None:
    page = fetch(serve(show_hidden=True, follow_symlinks=True).port, "/sized/").body.decode()
    assert ".secret" in page and "escape.txt" in page


def test_no_listing_gives_403_but_index_files_still_serve(serve: ServeStatic, sized: Path) -> None:
    server = serve(listing=False)
    response = fetch(server.port, "/sized/")
    assert response.status == 403
    assert b"small.txt" not in response.body
    assert fetch(server.port, "/site/").status == 200
    assert fetch(server.port, "/sized/small.txt").status == 200


def test_listed_links_lead_to_the_files(live_server: LiveServer) -> None:
    page = fetch(live_server.port, "/listed/").body.decode()
    hrefs = re.findall(r'href="([^"?/][^"]*\.txt)"', page)
    assert len(hrefs) == 5, hrefs  # the docroot's five .txt files in /listed/
    for href in hrefs:
        target = "/listed/" + href.replace("&amp;", "&")
        assert fetch(live_server.port, target).status == 200, target


def test_head_of_a_listing_has_no_body(live_server: LiveServer) -> None:
    get = fetch(live_server.port, "/listed/")
    with RawClient(live_server.port) as client:
        client.send(b"HEAD /listed/ HTTP/1.1\r\nHost: t\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        head = client.read_response("HEAD")
        assert head.status == 200 and head.body == b""
        assert head.header("Content-Length") == get.header("Content-Length")
        # RFC 9110 9.3.2: a HEAD response has no content, so the pipelined GET's response follows its head.
        while len(client.buffer) < len(b"HTTP/1.1 "):
            assert client._fill(), "closed after the HEAD response"
        assert client.buffer.startswith(b"HTTP/1.1 "), "the next response starts right after the head"
        assert client.read_response().body == b"hello world\n"


def test_hostile_names_are_escaped_in_html_and_json(serve: ServeStatic, docroot: Path) -> None:
    # CVE-2024-27306 class: a name is text, never markup or a scheme.
    folder = docroot / "hostile"
    folder.mkdir()
    (folder / "<img src=x onerror=alert(1)>").write_text("x")
    (folder / "javascript:alert(1)").write_text("x")
    server = serve()
    page = fetch(server.port, "/hostile/").body.decode()
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # Encoded as RFC 3986 3.3 asks of a segment (what may not stand in it), HTML-escaped around that.
    assert 'href="%3Cimg%20src=x%20onerror=alert(1)%3E"' in page
    assert 'href="javascript%3Aalert(1)"' in page, "a relative link never starts with a scheme"
    document = json.loads(fetch(server.port, "/hostile/", [("Accept", "application/json")]).body)
    assert sorted(entry["url"] for entry in document["entries"]) == [
        "%3Cimg%20src=x%20onerror=alert(1)%3E",
        "javascript%3Aalert(1)",
    ]
    for url in ("%3Cimg%20src=x%20onerror=alert(1)%3E", "%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E"):
        assert fetch(server.port, f"/hostile/{url}").body == b"x", "the link, and any other encoding of it"


def test_the_listing_links_its_stylesheet_which_its_url_serves_for_good(serve: ServeStatic, sized: Path) -> None:
    # Not inline: a page under Content-Security-Policy: default-src 'self' may load it from its origin.
    server = serve(root=sized, headers=(("X-Frame-Options", "DENY"),))
    page = fetch(server.port, "/?sort=size").body.decode()
    assert "<style" not in page and " style=" not in page
    href = re.search(r'<link rel="stylesheet" href="(\?style=[0-9a-f]{12})">', page)
    assert href, page[:400]
    sheet = fetch(server.port, "/" + href[1])
    assert sheet.status == 200 and sheet.header("Content-Type") == "text/css; charset=utf-8"
    assert sheet.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert sheet.header("X-Frame-Options") == "DENY"
    assert b"color-scheme:light dark" in sheet.body
    assert fetch(server.port, "/sub/" + href[1]).body == sheet.body, "every directory's URL serves it"
