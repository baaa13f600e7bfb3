"""Precompressed siblings (file.br, file.gz) over real sockets."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.integration.conftest import ServeStatic
from tests.integration.static_helpers import fetch, parse_multipart

SOURCE = b"body { color: red; }\n" * 50
GZIPPED = gzip.compress(SOURCE, mtime=0)
BROTLI = b"not really brotli, but the server never looks inside\n"


@pytest.fixture
def site(docroot: Path) -> Path:
    """style.css with .gz and .br siblings no older than it; old.js with a stale .gz."""
    (docroot / "style.css").write_bytes(SOURCE)
    (docroot / "style.css.gz").write_bytes(GZIPPED)
    (docroot / "style.css.br").write_bytes(BROTLI)
    (docroot / "old.js").write_bytes(b"new();\n")
    (docroot / "old.js.gz").write_bytes(gzip.compress(b"old();\n"))
    newer = os.stat(docroot / "old.js").st_mtime_ns + 10**9
    os.utime(docroot / "old.js", ns=(newer, newer))
    return docroot


@pytest.fixture
def server(serve: ServeStatic, site: Path) -> LiveServer:
    return serve()


@pytest.mark.parametrize(
    ("accept_encoding", "coding", "body"),
    [
        ("gzip, deflate, br", "br", BROTLI),
        ("gzip", "gzip", GZIPPED),
        ("x-gzip", "gzip", GZIPPED),
        ("br;q=0.5, gzip", "gzip", GZIPPED),
        ("br;q=0, *", "gzip", GZIPPED),
        ("*", "br", BROTLI),
    ],
)
def test_the_accepted_sibling_is_served(server: LiveServer, accept_encoding: str, coding: str, body: bytes) -> None:
    response = fetch(server.port, "/style.css", [("Accept-Encoding", accept_encoding)])
    assert response.status == 200
    assert response.body == body
    assert response.header("Content-Encoding") == coding
    assert response.header("Content-Type") == "text/css; charset=utf-8"  # the original's type
    assert response.header("Content-Length") == str(len(body))
    assert response.header("Vary") == "Accept-Encoding"


def test_gzip_sibling_decodes_to_the_original(server: LiveServer) -> None:
    response = fetch(server.port, "/style.css", [("Accept-Encoding", "gzip")])
    assert gzip.decompress(response.body) == SOURCE


@pytest.mark.parametrize("accept_encoding", [None, "identity", "deflate", "br;q=0, gzip;q=0", "*;q=0"])
def test_without_an_accepted_coding_the_original_is_served_with_vary(
    server: LiveServer, accept_encoding: str | None
) -> None:
    headers = [] if accept_encoding is None else [("Accept-Encoding", accept_encoding)]
    response = fetch(server.port, "/style.css", headers)
    assert response.body == SOURCE
    assert response.header("Content-Encoding") is None
    assert response.header("Vary") == "Accept-Encoding"


@pytest.mark.parametrize("accept_encoding", [None, "gzip"])
@pytest.mark.parametrize(
    ("method", "fields", "status"),
    [
        ("GET", [("Range", "bytes=0-9")], 206),
        ("HEAD", [], 200),
        ("GET", [("If-Match", '"other"')], 412),
        ("GET", [("Range", "bytes=99999-")], 416),
    ],
    ids=["range", "head", "failed-if-match", "unsatisfiable-range"],
)
def test_every_answer_for_a_file_with_siblings_varies_on_accept_encoding(
    server: LiveServer, accept_encoding: str | None, method: str, fields: list[tuple[str, str]], status: int
) -> None:
    # RFC 9110 12.5.5: which representation's validators and length decide the answer depends on
    # Accept-Encoding, so every answer says so, not only 200 and 304.
    coding = [] if accept_encoding is None else [("Accept-Encoding", accept_encoding)]
    response = fetch(server.port, "/style.css", [*coding, *fields], method)
    assert response.status == status
    assert response.header("Vary") == "Accept-Encoding"


def test_a_stale_sibling_is_not_served(server: LiveServer) -> None:
    response = fetch(server.port, "/old.js", [("Accept-Encoding", "gzip")])
    assert response.body == b"new();\n"
    assert response.header("Content-Encoding") is None


def test_each_representation_has_its_own_etag_and_validates(server: LiveServer) -> None:
    identity = fetch(server.port, "/style.css")
    coded = fetch(server.port, "/style.css", [("Accept-Encoding", "br")])
    assert identity.header("ETag") != coded.header("ETag")
    etag = coded.header("ETag") or ""
    revalidated = fetch(server.port, "/style.css", [("Accept-Encoding", "br"), ("If-None-Match", etag)])
    assert revalidated.status == 304
    assert revalidated.header("ETag") == etag and revalidated.header("Vary") == "Accept-Encoding"
    # The identity copy's tag does not validate the coded representation.
    other = fetch(
        server.port, "/style.css", [("Accept-Encoding", "br"), ("If-None-Match", identity.header("ETag") or "")]
    )
    assert other.status == 200


def test_ranges_apply_to_the_encoded_representation(server: LiveServer) -> None:
    response = fetch(server.port, "/style.css", [("Accept-Encoding", "gzip"), ("Range", "bytes=0-9")])
    assert response.status == 206
    assert response.body == GZIPPED[:10]
    assert response.header("Content-Range") == f"bytes 0-9/{len(GZIPPED)}"
    assert response.header("Content-Encoding") == "gzip"


def test_several_ranges_of_an_encoded_file_name_the_coding_in_each_part(server: LiveServer) -> None:
    response = fetch(server.port, "/style.css", [("Accept-Encoding", "gzip"), ("Range", "bytes=0-1,-2")])
    assert response.header("Content-Encoding") is None  # the multipart body itself is not gzip
    parts = parse_multipart(response)
    assert [part["Content-Encoding"] for part in parts] == ["gzip", "gzip"]
    assert [part.get_payload(decode=True) for part in parts] == [GZIPPED[:2], GZIPPED[-2:]]


def test_a_sibling_symlink_leading_out_of_the_root_is_ignored(
    serve: ServeStatic, docroot: Path, tmp_path: Path
) -> None:
    # CVE-2024-42367 class: the sibling is held to the containment rule of the file itself.
    (docroot / "app.css").write_bytes(b"app\n")
    secret = tmp_path / "outside" / "secret.gz"
    secret.write_bytes(b"secret")
    os.symlink(secret, docroot / "app.css.gz")
    server = serve()
    response = fetch(server.port, "/app.css", [("Accept-Encoding", "gzip")])
    assert (response.status, response.body) == (200, b"app\n")
    assert response.header("Content-Encoding") is None


def test_a_sibling_symlink_inside_the_root_is_followed(serve: ServeStatic, docroot: Path) -> None:
    (docroot / "app.css").write_bytes(b"app\n")
    (docroot / "build").mkdir()
    (docroot / "build" / "app.css.gz").write_bytes(gzip.compress(b"app\n"))
    os.symlink(docroot / "build" / "app.css.gz", docroot / "app.css.gz")
    server = serve()
    response = fetch(server.port, "/app.css", [("Accept-Encoding", "gzip")])
    assert response.header("Content-Encoding") == "gzip"
    assert gzip.decompress(response.body) == b"app\n"


def test_a_sibling_that_is_a_directory_is_ignored(serve: ServeStatic, docroot: Path) -> None:
    (docroot / "app.css").write_bytes(b"app\n")
    (docroot / "app.css.gz").mkdir()
    server = serve()
    response = fetch(server.port, "/app.css", [("Accept-Encoding", "gzip")])
    assert (response.status, response.body) == (200, b"app\n")


def test_index_files_and_head_get_siblings_too(serve: ServeStatic, docroot: Path) -> None:
    (docroot / "site" / "index.html.gz").write_bytes(gzip.compress((docroot / "site" / "index.html").read_bytes()))
    server = serve()
    response = fetch(server.port, "/site/", [("Accept-Encoding", "gzip")])
    assert response.header("Content-Encoding") == "gzip"
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    head = fetch(server.port, "/site/", [("Accept-Encoding", "gzip")], method="HEAD")
    assert head.header("Content-Encoding") == "gzip" and head.body == b""
    assert head.header("Content-Length") == response.header("Content-Length")


def test_the_sibling_itself_is_served_as_what_it_is(server: LiveServer) -> None:
    response = fetch(server.port, "/style.css.gz")
    assert response.body == GZIPPED
    assert response.header("Content-Type") == "application/gzip"
    assert response.header("Content-Encoding") is None
