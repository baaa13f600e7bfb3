"""Range requests over real sockets (RFC 9110 14, 15.3.7, 15.5.17), multipart bodies included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handlers.static.ranges import MAX_RANGES
from tests.conftest import LiveServer
from tests.integration.client import RawClient
from tests.integration.conftest import ServeStatic
from tests.integration.static_helpers import fetch, parse_multipart

DATA = bytes(range(256)) * 4  # the docroot's 1k.bin


@pytest.mark.parametrize(
    ("spec", "first", "last"),
    [("0-0", 0, 0), ("10-19", 10, 19), ("1000-", 1000, 1023), ("-24", 1000, 1023), ("1000-5000", 1000, 1023)],
)
def test_single_range_is_206_with_content_range(live_server: LiveServer, spec: str, first: int, last: int) -> None:
    response = fetch(live_server.port, "/1k.bin", [("Range", f"bytes={spec}")])
    assert response.status == 206
    assert response.header("Content-Range") == f"bytes {first}-{last}/1024"
    assert response.header("Content-Length") == str(last - first + 1)
    assert response.header("Content-Type") == "application/octet-stream"
    assert response.header("ETag") is not None and response.header("Accept-Ranges") == "bytes"
    assert response.body == DATA[first : last + 1]


@pytest.mark.parametrize("spec", ["1024-", "2000-3000", "-0", "1024-1024,4000-"])
def test_unsatisfiable_ranges_are_416_with_the_length(live_server: LiveServer, spec: str) -> None:
    response = fetch(live_server.port, "/1k.bin", [("Range", f"bytes={spec}")])
    assert response.status == 416
    assert response.header("Content-Range") == "bytes */1024"
    assert DATA not in response.body


@pytest.mark.parametrize("value", ["bytes=5-1", "bytes=x-y", "lines=1-2", "bytes 0-1", "bytes="])
def test_invalid_range_headers_are_ignored(live_server: LiveServer, value: str) -> None:
    response = fetch(live_server.port, "/1k.bin", [("Range", value)])
    assert (response.status, response.body) == (200, DATA)


def test_several_ranges_are_multipart_byteranges_byte_for_byte(live_server: LiveServer) -> None:
    response = fetch(live_server.port, "/1k.bin", [("Range", "bytes=0-9, 500-519, -24")])
    assert response.status == 206
    content_type = response.header("Content-Type") or ""
    assert content_type.startswith("multipart/byteranges; boundary=")
    assert response.header("Content-Range") is None
    assert int(response.header("Content-Length") or -1) == len(response.body)
    parts = parse_multipart(response)
    assert [part["Content-Range"] for part in parts] == ["bytes 0-9/1024", "bytes 500-519/1024", "bytes 1000-1023/1024"]
    assert all(part["Content-Type"] == "application/octet-stream" for part in parts)
    assert [part.get_payload(decode=True) for part in parts] == [DATA[0:10], DATA[500:520], DATA[1000:1024]]


def test_multipart_of_a_large_file_streams_every_part_exactly(serve: ServeStatic, docroot: Path) -> None:
    data = os.urandom(8 << 20)
    (docroot / "big.bin").write_bytes(data)
    server = serve()
    spans = [(0, 99), (3 << 20, (4 << 20) - 1), ((8 << 20) - 1000, (8 << 20) - 1)]
    header = "bytes=" + ",".join(f"{first}-{last}" for first, last in spans)
    with RawClient(server.port, timeout=30) as client:
        client.send(f"GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: {header}\r\n\r\n".encode())
        response = client.read_response()
    parts = parse_multipart(response)
    assert [part.get_payload(decode=True) for part in parts] == [data[first : last + 1] for first, last in spans]


def test_overlapping_and_adjacent_ranges_are_merged_into_one_part(live_server: LiveServer) -> None:
    response = fetch(live_server.port, "/1k.bin", [("Range", "bytes=0-99,50-149,150-199")])
    assert response.status == 206
    assert response.header("Content-Range") == "bytes 0-199/1024"
    assert response.body == DATA[:200]


def test_parts_keep_the_order_of_the_request(live_server: LiveServer) -> None:
    response = fetch(live_server.port, "/1k.bin", [("Range", "bytes=900-909,0-9")])
    parts = parse_multipart(response)
    assert [part["Content-Range"] for part in parts] == ["bytes 900-909/1024", "bytes 0-9/1024"]


def test_many_overlapping_ranges_cost_one_copy_of_the_file(live_server: LiveServer) -> None:
    # CVE-2011-3192: each range overlapping the others must not multiply the bytes sent.
    header = "bytes=" + ",".join(["0-"] * MAX_RANGES)
    response = fetch(live_server.port, "/1k.bin", [("Range", header)])
    assert response.status == 206
    assert response.body == DATA


def test_more_than_the_limit_of_ranges_gets_the_whole_file(live_server: LiveServer) -> None:
    header = "bytes=" + ",".join(f"{2 * i}-{2 * i}" for i in range(MAX_RANGES + 1))
    response = fetch(live_server.port, "/1k.bin", [("Range", header)])
    assert (response.status, response.body) == (200, DATA)
    at_limit = "bytes=" + ",".join(f"{2 * i}-{2 * i}" for i in range(MAX_RANGES))
    response = fetch(live_server.port, "/1k.bin", [("Range", at_limit)])
    assert response.status == 206 and len(parse_multipart(response)) == MAX_RANGES


def test_if_range_with_the_current_etag_honours_the_range(live_server: LiveServer) -> None:
    etag = fetch(live_server.port, "/1k.bin").header("ETag") or ""
    response = fetch(live_server.port, "/1k.bin", [("Range", "bytes=0-3"), ("If-Range", etag)])
    assert (response.status, response.body) == (206, DATA[:4])


@pytest.mark.parametrize("if_range", ['"stale"', 'W/"{etag}"', "Sun, 06 Nov 1994 08:49:37 GMT", "nonsense"])
def test_if_range_that_does_not_match_gets_the_whole_file(live_server: LiveServer, if_range: str) -> None:
    etag = (fetch(live_server.port, "/1k.bin").header("ETag") or "").strip('"')
    response = fetch(live_server.port, "/1k.bin", [("Range", "bytes=0-3"), ("If-Range", if_range.format(etag=etag))])
    assert (response.status, response.body) == (200, DATA)
    assert response.header("Content-Range") is None


def test_if_range_with_the_exact_date_honours_the_range(live_server: LiveServer) -> None:
    modified = fetch(live_server.port, "/1k.bin").header("Last-Modified") or ""
    response = fetch(live_server.port, "/1k.bin", [("Range", "bytes=-2"), ("If-Range", modified)])
    assert (response.status, response.body) == (206, DATA[-2:])


def test_head_ignores_range(live_server: LiveServer) -> None:
    response = fetch(live_server.port, "/1k.bin", [("Range", "bytes=0-3")], method="HEAD")
    assert response.status == 200
    assert response.header("Content-Length") == "1024"


def test_an_empty_file_ignores_range(serve: ServeStatic, docroot: Path) -> None:
    (docroot / "empty.txt").write_bytes(b"")
    server = serve()
    response = fetch(server.port, "/empty.txt", [("Range", "bytes=0-")])
    assert (response.status, response.body, response.header("Content-Length")) == (200, b"", "0")


def test_pipelined_range_requests_stay_in_step(live_server: LiveServer) -> None:
    with RawClient(live_server.port) as client:
        client.send(
            b"GET /1k.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=1-2,5-6\r\n\r\n"
            b"GET /1k.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=-1\r\n\r\n"
            b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        assert [p.get_payload(decode=True) for p in parse_multipart(client.read_response())] == [DATA[1:3], DATA[5:7]]
        assert client.read_response().body == DATA[-1:]
        assert client.read_response().body == b"hello world\n"
