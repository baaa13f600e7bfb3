"""What a GET or HEAD of a file leads to: RFC 9110 13.2.2's order, then If-Range, then Range."""

from __future__ import annotations

import io
from typing import Any

import pytest

from handlers.static.files import decide, send
from handlers.static.ranges import ByteRange
from reactor.http.events import Headers, Request

ETAG = '"abc-10"'
MODIFIED = 784111777
DATE = "Sun, 06 Nov 1994 08:49:37 GMT"
EARLIER = "Sun, 06 Nov 1994 08:49:36 GMT"


def outcome(*fields: tuple[str, str], method: str = "GET") -> tuple[int, list[ByteRange]]:
    request = Request(method, "/f", "/f", "", "HTTP/1.1", Headers(list(fields)), "t", None, False, True, False)
    return decide(request, ETAG, MODIFIED, 100)


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ((), 200),
        ((("range", "bytes=0-9"),), 206),
        ((("range", "bytes=100-"),), 416),
        ((("range", "bytes=oops"),), 200),
        ((("if-match", '"other"'), ("range", "bytes=0-9")), 412),  # step 1 before step 5
        ((("if-unmodified-since", EARLIER), ("range", "bytes=100-")), 412),
        ((("if-none-match", ETAG), ("range", "bytes=0-9")), 304),  # step 3 before step 5
        ((("if-modified-since", DATE), ("range", "bytes=100-")), 304),
        ((("if-match", ETAG), ("range", "bytes=0-9")), 206),
        ((("if-range", ETAG), ("range", "bytes=0-9")), 206),
        ((("if-range", '"old"'), ("range", "bytes=0-9")), 200),
        ((("if-range", '"old"'), ("range", "bytes=100-")), 200),  # the whole, not 416
        ((("if-range", 'W/"abc-10"'), ("range", "bytes=0-9")), 200),
        ((("if-range", DATE), ("range", "bytes=0-9")), 206),
        ((("if-range", EARLIER), ("range", "bytes=0-9")), 200),
        ((("if-range", ETAG), ("if-range", ETAG), ("range", "bytes=0-9")), 200),
        ((("if-range", '"old"'),), 200),  # If-Range without Range is ignored
        ((("range", "bytes=0-1"), ("range", "bytes=2-3")), 200),  # Range is no list field
    ],
)
def test_status_follows_the_rfc_order(fields: tuple[tuple[str, str], ...], status: int) -> None:
    assert outcome(*fields)[0] == status


def test_ranges_come_back_for_206_only() -> None:
    assert outcome(("range", "bytes=0-9,20-"))[1] == [ByteRange(0, 10), ByteRange(20, 100)]
    assert outcome(("range", "bytes=100-"))[1] == []


def test_head_ignores_range() -> None:
    # RFC 9110 14.2: GET is the only method for which range handling is defined.
    assert outcome(("range", "bytes=0-9"), method="HEAD") == (200, [])
    assert outcome(("if-none-match", ETAG), method="HEAD")[0] == 304


class RecordingExchange:
    """Stands in for an Exchange and records what send() asks of it."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def respond_file(self, status, headers, file, offset, count, *, close=False) -> None:
        self.calls.append(("respond_file", status, dict(headers), offset, count))

    def start_response(self, status, headers=(), content_length=None, *, close=False) -> None:
        self.calls.append(("start_response", status, dict(headers), content_length))

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    def write_file(self, file, offset, count, *, owns_file=False) -> None:
        self.calls.append(("write_file", offset, count, owns_file))

    def end(self) -> None:
        self.calls.append(("end",))


def test_a_multipart_body_is_file_parts_between_small_heads_with_the_exact_length() -> None:
    exchange = RecordingExchange()
    ranges = [ByteRange(0, 10), ByteRange(1000, 1_000_000)]
    send(exchange, io.BytesIO(), 2_000_000, ranges, "video/mp4", "", [("ETag", ETAG)])  # type: ignore[arg-type]
    kinds = [call[0] for call in exchange.calls]
    assert kinds == ["start_response", "write", "write_file", "write", "write_file", "write", "end"]
    _, status, headers, length = exchange.calls[0]
    assert status == 206 and str(headers["Content-Type"]).startswith("multipart/byteranges; boundary=")
    assert headers["ETag"] == ETAG
    assert [call[1:] for call in exchange.calls if call[0] == "write_file"] == [
        (0, 10, False),
        (1000, 999_000, True),  # the last part closes the file
    ]
    written = [call[1] for call in exchange.calls if call[0] == "write"]
    assert all(isinstance(data, bytes) and len(data) < 200 for data in written)  # no file data in memory
    assert length == sum(len(data) for data in written) + 10 + 999_000


def test_one_range_or_none_is_one_file_response() -> None:
    exchange = RecordingExchange()
    send(exchange, io.BytesIO(), 100, [], "text/plain", "gzip", [])  # type: ignore[arg-type]
    send(exchange, io.BytesIO(), 100, [ByteRange(5, 10)], "text/plain", "", [])  # type: ignore[arg-type]
    whole, part = exchange.calls
    assert whole[:2] == ("respond_file", 200) and whole[2] == {"Content-Type": "text/plain", "Content-Encoding": "gzip"}
    assert whole[3:] == (0, 100)
    assert part[:2] == ("respond_file", 206) and part[2]["Content-Range"] == "bytes 5-9/100"
    assert part[3:] == (5, 5)
