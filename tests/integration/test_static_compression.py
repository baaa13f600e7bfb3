"""Compression on the fly over real sockets: the first request that accepts gzip gets the file itself
while a background thread compresses it, later ones the coded bytes with their own validators;
ranges, conditionals and HEAD on the coded representation; real clients (curl, http.client) decode it."""

from __future__ import annotations

import gzip
import http.client
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.integration.client import Response, wait_until
from tests.integration.conftest import ServeStatic
from tests.integration.static_helpers import fetch
from tests.integration.test_static_curl import curl

STYLE = b"body { color: red; margin: 0 auto; }\n" * 200
GZIP = [("Accept-Encoding", "gzip")]


@pytest.fixture
def site(docroot: Path) -> Path:
    (docroot / "style.css").write_bytes(STYLE)
    (docroot / "tiny.css").write_bytes(b"p{}\n")
    (docroot / "image.png").write_bytes(b"\x89PNG" + bytes(2000))
    (docroot / "sibling.js").write_bytes(b"real();\n" * 200)
    (docroot / "sibling.js.gz").write_bytes(gzip.compress(b"precompressed();\n"))
    return docroot


@pytest.fixture
def server(serve: ServeStatic, site: Path) -> LiveServer:
    return serve()


def coded(port: int, target: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """The first response for ``target`` that comes gzip-coded, asking until the compression is done."""
    found: list[Response] = []

    def ask() -> bool:
        response = fetch(port, target, headers or GZIP)
        found[:] = [response]
        return response.header("Content-Encoding") == "gzip"

    assert wait_until(ask), found[0].headers
    return found[0]


def test_the_first_answer_is_the_file_then_the_coded_bytes(server: LiveServer) -> None:
    first = fetch(server.port, "/style.css", GZIP)
    assert first.status == 200 and first.body == STYLE
    assert first.header("Content-Encoding") is None
    assert first.header("Vary") == "Accept-Encoding"
    later = coded(server.port, "/style.css")
    assert later.status == 200
    assert gzip.decompress(later.body) == STYLE
    assert len(later.body) < len(STYLE) // 10
    assert later.header("Content-Length") == str(len(later.body))
    assert later.header("Content-Type") == "text/css; charset=utf-8"
    assert later.header("Vary") == "Accept-Encoding"
    identity_etag = first.header("ETag")
    assert identity_etag is not None
    assert later.header("ETag") == identity_etag[:-1] + '-gzip"'
    assert later.header("Last-Modified") == first.header("Last-Modified")
    again = fetch(server.port, "/style.css", GZIP)  # now from the file cache
    assert (again.body, again.headers[2:]) == (later.body, later.headers[2:])  # Server and Date aside


def test_a_client_that_does_not_accept_gzip_gets_the_file(server: LiveServer) -> None:
    coded(server.port, "/style.css")
    for headers in (
        [],
        [("Accept-Encoding", "gzip;q=0")],
        [("Accept-Encoding", "identity")],
        [("Accept-Encoding", "br")],
    ):
        response = fetch(server.port, "/style.css", headers)
        assert response.body == STYLE, headers
        assert response.header("Content-Encoding") is None
        assert response.header("Vary") == "Accept-Encoding"


def test_q_values_and_wildcards_choose_gzip(server: LiveServer) -> None:
    coded(server.port, "/style.css")
    for value in ("gzip;q=0.5, identity;q=0.1", "*", "br;q=1, x-gzip;q=0.3", "deflate, gzip"):
        assert fetch(server.port, "/style.css", [("Accept-Encoding", value)]).header("Content-Encoding") == "gzip"


def test_ranges_apply_to_the_coded_bytes(server: LiveServer) -> None:
    whole = coded(server.port, "/style.css").body
    response = fetch(server.port, "/style.css", [*GZIP, ("Range", "bytes=0-9")])
    assert response.status == 206
    assert response.body == whole[:10]
    assert response.header("Content-Range") == f"bytes 0-9/{len(whole)}"
    assert response.header("Content-Encoding") == "gzip"
    tail = fetch(server.port, "/style.css", [*GZIP, ("Range", "bytes=-5")])
    assert tail.body == whole[-5:]
    several = fetch(server.port, "/style.css", [*GZIP, ("Range", "bytes=0-1,10-11")])
    assert several.status == 206
    assert whole[:2] in several.body and whole[10:12] in several.body
    assert b"Content-Encoding: gzip" in several.body  # each part says it, not the whole
    beyond = fetch(server.port, "/style.css", [*GZIP, ("Range", f"bytes={len(whole)}-")])
    assert beyond.status == 416
    assert beyond.header("Content-Range") == f"bytes */{len(whole)}"


def test_conditionals_use_the_coded_etag(server: LiveServer) -> None:
    response = coded(server.port, "/style.css")
    etag = response.header("ETag")
    assert etag is not None
    not_modified = fetch(server.port, "/style.css", [*GZIP, ("If-None-Match", etag)])
    assert not_modified.status == 304
    assert not_modified.header("ETag") == etag
    assert not_modified.header("Vary") == "Accept-Encoding"
    # The identity representation does not match the coded tag.
    assert fetch(server.port, "/style.css", [("If-None-Match", etag)]).status == 200
    identity = fetch(server.port, "/style.css").header("ETag")
    assert identity is not None
    # A client that cached the file itself before the coded form was made revalidates what it holds.
    held = fetch(server.port, "/style.css", [*GZIP, ("If-None-Match", identity)])
    assert held.status == 304
    assert held.header("ETag") == identity
    alias = fetch(server.port, "/./style.css", [*GZIP, ("If-None-Match", identity)])  # not cached: the full path
    assert (alias.status, alias.header("ETag")) == (304, identity)
    assert fetch(server.port, "/./style.css", [*GZIP, ("If-None-Match", etag)]).status == 304
    assert fetch(server.port, "/style.css", [*GZIP, ("If-Match", identity)]).status == 412
    ranged = fetch(server.port, "/style.css", [*GZIP, ("Range", "bytes=0-3"), ("If-Range", etag)])
    assert ranged.status == 206
    # A download of the file itself, begun before the coded form was made, resumes with its bytes.
    resumed = fetch(server.port, "/style.css", [*GZIP, ("Range", "bytes=4-9"), ("If-Range", identity)])
    assert (resumed.status, resumed.body, resumed.header("Content-Encoding")) == (206, STYLE[4:10], None)
    stale = fetch(server.port, "/style.css", [*GZIP, ("Range", "bytes=0-3"), ("If-Range", '"0-0"')])
    assert stale.status == 200 and stale.body == response.body


def test_head_is_get_without_the_body(server: LiveServer) -> None:
    get = coded(server.port, "/style.css")
    head = fetch(server.port, "/style.css", GZIP, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.headers[2:] == get.headers[2:]


def test_tiny_binary_and_precompressed_files_are_left_alone(server: LiveServer) -> None:
    coded(server.port, "/style.css")  # the background thread has had its chance
    for target in ("/tiny.css", "/image.png"):
        for _ in range(3):
            assert fetch(server.port, target, GZIP).header("Content-Encoding") is None, target
    for _ in range(3):
        sibling = fetch(server.port, "/sibling.js", GZIP)
        assert gzip.decompress(sibling.body) == b"precompressed();\n"  # the sibling wins


def test_a_changed_file_is_compressed_again(server: LiveServer, site: Path) -> None:
    first = coded(server.port, "/style.css")
    changed = b"h1 { font-weight: normal; }\n" * 300
    (site / "style.css").write_bytes(changed)
    later = os.stat(site / "style.css").st_mtime_ns + 10**9
    os.utime(site / "style.css", ns=(later, later))

    def recompressed() -> bool:
        response = fetch(server.port, "/style.css", GZIP)
        return response.header("Content-Encoding") == "gzip" and gzip.decompress(response.body) == changed

    assert wait_until(recompressed, timeout=15)
    assert fetch(server.port, "/style.css", GZIP).header("ETag") != first.header("ETag")


def test_no_compress_sends_files_as_they_are(serve: ServeStatic, site: Path) -> None:
    server = serve(compress=False)
    for _ in range(5):
        response = fetch(server.port, "/style.css", GZIP)
        assert response.body == STYLE and response.header("Content-Encoding") is None


def test_curl_compressed_and_http_client_decode_it(server: LiveServer, tmp_path: Path) -> None:
    coded(server.port, "/style.css")
    url = f"http://127.0.0.1:{server.port}/style.css"
    result = subprocess.run(
        [curl(), "-sS", "--fail", "--compressed", "-D", "-", url], capture_output=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head
    assert body == STYLE
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/style.css", headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        assert response.getheader("Content-Encoding") == "gzip"
        assert gzip.decompress(response.read()) == STYLE
        connection.request("HEAD", "/style.css", headers={"Accept-Encoding": "gzip"})  # same connection
        head_response = connection.getresponse()
        assert head_response.read() == b""
        assert head_response.getheader("Content-Length") == response.getheader("Content-Length")
    finally:
        connection.close()
