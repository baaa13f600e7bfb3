"""What a GET or HEAD of a file leads to: RFC 9110 13.2.2's order, then If-Range, then Range."""

from __future__ import annotations

import pytest

from handlers.files import decide
from handlers.ranges import ByteRange
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
