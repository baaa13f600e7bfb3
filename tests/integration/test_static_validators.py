"""Validators and conditional requests over real sockets (RFC 9110 8.8, 13)."""

from __future__ import annotations

import os
import re
from email.utils import formatdate
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.integration.client import RawClient, wait_until
from tests.integration.static_helpers import fetch, names

HELLO = b"hello world\n"


def validators(server: LiveServer) -> tuple[str, str]:
    response = fetch(server.port, "/hello.txt")
    return response.header("ETag") or "", response.header("Last-Modified") or ""


def test_etag_is_strong_and_made_of_mtime_ns_and_size(live_server: LiveServer, docroot: Path) -> None:
    info = os.stat(docroot / "hello.txt")
    response = fetch(live_server.port, "/hello.txt")
    assert response.status == 200 and response.body == HELLO
    assert response.header("ETag") == f'"{info.st_mtime_ns:x}-{info.st_size:x}"'
    assert response.header("Last-Modified") == formatdate(int(info.st_mtime), usegmt=True)
    assert response.header("Accept-Ranges") == "bytes"


def test_etag_changes_when_the_file_changes_within_the_same_second(live_server: LiveServer, docroot: Path) -> None:
    path = docroot / "hello.txt"
    before = fetch(live_server.port, "/hello.txt").header("ETag")
    info = os.stat(path)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1))  # one nanosecond later
    expected = f'"{info.st_mtime_ns + 1:x}-{info.st_size:x}"'
    assert expected != before
    # Small files are cached and checked again at most once a second (the speed issue's file cache).
    assert wait_until(lambda: fetch(live_server.port, "/hello.txt").header("ETag") == expected, timeout=3)


@pytest.mark.parametrize("form", ["{etag}", "W/{etag}", '"nope", {etag}', "*"])
def test_if_none_match_gives_304_with_validators_and_no_body(live_server: LiveServer, form: str) -> None:
    etag, modified = validators(live_server)
    response = fetch(live_server.port, "/hello.txt", [("If-None-Match", form.format(etag=etag))])
    assert response.status == 304
    assert response.body == b""
    assert response.header("ETag") == etag
    assert response.header("Last-Modified") == modified
    assert response.header("Vary") == "Accept-Encoding"
    assert "content-length" not in names(response) and "content-type" not in names(response)


def test_if_none_match_on_two_lines_is_one_list(live_server: LiveServer) -> None:
    etag, _ = validators(live_server)
    response = fetch(live_server.port, "/hello.txt", [("If-None-Match", '"a"'), ("If-None-Match", etag)])
    assert response.status == 304


def test_if_none_match_that_misses_gives_the_file(live_server: LiveServer) -> None:
    response = fetch(live_server.port, "/hello.txt", [("If-None-Match", '"nope"')])
    assert (response.status, response.body) == (200, HELLO)


def test_if_modified_since(live_server: LiveServer) -> None:
    _, modified = validators(live_server)
    assert fetch(live_server.port, "/hello.txt", [("If-Modified-Since", modified)]).status == 304
    assert fetch(live_server.port, "/hello.txt", [("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")]).status == 200
    assert fetch(live_server.port, "/hello.txt", [("If-Modified-Since", "garbage")]).status == 200


def test_if_none_match_takes_precedence_over_if_modified_since(live_server: LiveServer) -> None:
    _, modified = validators(live_server)
    response = fetch(live_server.port, "/hello.txt", [("If-None-Match", '"nope"'), ("If-Modified-Since", modified)])
    assert (response.status, response.body) == (200, HELLO)


def test_if_match_and_if_unmodified_since_give_412(live_server: LiveServer) -> None:
    etag, modified = validators(live_server)
    assert fetch(live_server.port, "/hello.txt", [("If-Match", '"nope"')]).status == 412
    assert fetch(live_server.port, "/hello.txt", [("If-Match", f"W/{etag}")]).status == 412  # strong comparison
    assert fetch(live_server.port, "/hello.txt", [("If-Match", etag)]).status == 200
    assert fetch(live_server.port, "/hello.txt", [("If-Match", "*")]).status == 200
    early = "Sun, 06 Nov 1994 08:49:37 GMT"
    assert fetch(live_server.port, "/hello.txt", [("If-Unmodified-Since", early)]).status == 412
    assert fetch(live_server.port, "/hello.txt", [("If-Unmodified-Since", modified)]).status == 200


def test_precedence_is_that_of_rfc_9110_13_2_2(live_server: LiveServer) -> None:
    etag, modified = validators(live_server)
    early = "Sun, 06 Nov 1994 08:49:37 GMT"
    # 1 before 3: a failed If-Match beats a matching If-None-Match.
    assert fetch(live_server.port, "/hello.txt", [("If-None-Match", etag), ("If-Match", '"x"')]).status == 412
    # 1 replaces 2: a passing If-Match makes If-Unmodified-Since irrelevant.
    response = fetch(live_server.port, "/hello.txt", [("If-Match", etag), ("If-Unmodified-Since", early)])
    assert response.status == 200
    # 2 before 4.
    response = fetch(live_server.port, "/hello.txt", [("If-Unmodified-Since", early), ("If-Modified-Since", modified)])
    assert response.status == 412
    # Preconditions before Range (step 5).
    response = fetch(live_server.port, "/hello.txt", [("If-None-Match", etag), ("Range", "bytes=0-1")])
    assert response.status == 304


def test_head_has_the_headers_of_get_without_the_body(live_server: LiveServer) -> None:
    get = fetch(live_server.port, "/hello.txt")
    head = fetch(live_server.port, "/hello.txt", method="HEAD")
    assert head.status == 200 and head.body == b""
    same = {"content-type", "content-length", "etag", "last-modified", "accept-ranges", "vary"}
    assert {k.lower(): v for k, v in head.headers if k.lower() in same} == {
        k.lower(): v for k, v in get.headers if k.lower() in same
    }
    etag = get.header("ETag") or ""
    assert fetch(live_server.port, "/hello.txt", [("If-None-Match", etag)], method="HEAD").status == 304


def test_a_412_is_a_short_page(live_server: LiveServer) -> None:
    response = fetch(live_server.port, "/hello.txt", [("If-Match", '"nope"')])
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    assert b"412" in response.body and HELLO not in response.body


def test_conditions_on_a_missing_file_are_ignored(live_server: LiveServer) -> None:
    # RFC 9110 13.2.1: preconditions only matter when the response would otherwise be 2xx.
    assert fetch(live_server.port, "/nope.txt", [("If-Match", '"x"')]).status == 404


def test_304_keeps_the_connection_usable(live_server: LiveServer) -> None:
    etag, _ = validators(live_server)
    with RawClient(live_server.port) as client:
        request = f"GET /hello.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\n\r\n".encode()
        client.send(request + b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().status == 304
        follow = client.read_response()
    assert (follow.status, follow.body) == (200, HELLO)
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', etag)
