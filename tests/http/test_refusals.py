"""Every refusal says why: the status and the detail the error page shows the client, for each rule
of the head's framing and of chunked bodies, and the limits exactly at their edge."""

from __future__ import annotations

import pytest

from reactor.http.events import Data
from reactor.http.framing import MAX_CHUNK_LINE
from tests.http.helpers import all_feeds, exchange

CHUNKED = b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
LENGTH = b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n"

NOT_CRLF = "chunked framing line not ended by CRLF"
OVER_10 = "request body over the limit of 10 bytes"
FINAL = "final transfer coding is not chunked"


def refusal(name: str, data: bytes, status: int, detail: str, eof: bool = False, **limits: int) -> object:
    return pytest.param(data, eof, limits, status, detail, id=name)


# What is wrong, its bytes, the status and the detail shown (max_body is 10 unless changed).
REFUSALS = [
    refusal("a size line without end", CHUNKED + b"1;" + b"a" * MAX_CHUNK_LINE, 400, "chunk size line too long"),
    refusal("data longer than its size", CHUNKED + b"5\r\nhelloXY", 400, "chunk data not followed by CRLF"),
    refusal("a size line ended by a bare LF", CHUNKED + b"5\nhello\r\n", 400, NOT_CRLF),
    refusal("a bare LF where a size line starts", CHUNKED + b"\n", 400, NOT_CRLF),
    refusal("a bare LF after a chunk", CHUNKED + b"5\r\nhello\r\n\n", 400, NOT_CRLF),
    refusal("a CR before the size line's CRLF", CHUNKED + b"5\r\r\n", 400, NOT_CRLF),
    refusal("a trailer ended by a bare LF", CHUNKED + b"0\r\nX: y\n\r\n", 400, NOT_CRLF),
    refusal("a size that is no number", CHUNKED + b"zz\r\n", 400, "invalid chunk size line"),
    refusal("seventeen hex digits", CHUNKED + b"1" + b"0" * 16 + b"\r\n", 400, "chunk size overflow"),
    refusal("sixteen hex digits", CHUNKED + b"1" + b"0" * 15 + b"\r\n", 413, OVER_10),
    refusal("chunks over the limit together", CHUNKED + b"5\r\nhello\r\n6\r\n", 413, OVER_10),
    refusal(
        "trailer lines over the limit together",
        CHUNKED + b"0\r\n" + b"X: 123456\r\n" * 6,
        400,
        "trailer section too large",
        max_head=64,
    ),
    refusal(
        "a body cut by the end of stream", LENGTH % 10 + b"abc", 400, "connection closed inside a request body", True
    ),
    refusal(
        "a whole head over its limit",
        b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 100 + b"\r\n\r\n",
        431,
        "request head too large",
        max_head=64,
    ),
    refusal(
        "Transfer-Encoding with Content-Length",
        CHUNKED.replace(b"\r\n\r\n", b"\r\nContent-Length: 5\r\n\r\n"),
        400,
        "both Transfer-Encoding and Content-Length",
    ),
    refusal(
        "Transfer-Encoding from HTTP/1.0",
        CHUNKED.replace(b"HTTP/1.1", b"HTTP/1.0"),
        400,
        "Transfer-Encoding in an HTTP/1.0 request",
    ),
    refusal("a final coding that is not chunked", CHUNKED.replace(b"chunked", b"chunked, gzip"), 400, FINAL),
    refusal("a coding named like chunked", CHUNKED.replace(b"chunked", b"Xchunked"), 400, FINAL),
    # A no-break space (0xA0, obs-text) is no whitespace to HTTP: "chunked\xa0" is another coding.
    refusal("chunked and a no-break space", CHUNKED.replace(b"chunked", b"chunked\xa0"), 400, FINAL),
    refusal(
        "a no-break space before chunked",
        CHUNKED.replace(b"chunked", b"\xa0, chunked"),
        501,
        "transfer coding not implemented",
    ),
    refusal(
        "an unknown coding before chunked",
        CHUNKED.replace(b"chunked", b"X, chunked"),
        501,
        "transfer coding not implemented",
    ),
    # Past max_request_line the line is too long, whatever comes after the limit.
    refusal(
        "a control byte past the request line's limit",
        b"GET /" + b"a" * 100 + b"\x01",
        414,
        "request line too long",
        max_request_line=64,
    ),
]


@pytest.mark.parametrize(("data", "eof", "limits", "status", "detail"), REFUSALS)
def test_each_refusal_has_its_status_and_says_why(
    data: bytes, eof: bool, limits: dict[str, int], status: int, detail: str
) -> None:
    events, answer = exchange([data], eof, **{"max_body": 10, **limits})
    assert events[-1] == ("error", status)
    assert f"<p>{detail}</p>".encode() in answer, answer


def body_of(data: bytes, max_body: int = 1 << 20) -> list[tuple[object, ...]]:
    """The events after the head, fed whole, byte by byte and split at every index."""
    return all_feeds(data, max_body=max_body)[1:]


def test_a_body_of_exactly_the_limit_is_taken_in_chunks() -> None:
    assert body_of(CHUNKED + b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", max_body=10) == [
        ("data", b"helloworld"),
        ("end",),
    ]


def test_leading_zeros_do_not_count_as_digits_of_a_chunk_size() -> None:
    assert body_of(CHUNKED + b"0" * 20 + b"5\r\nhello\r\n0\r\n\r\n") == [("data", b"hello"), ("end",)]


def test_a_size_line_of_exactly_its_limit_is_taken_and_one_byte_more_is_not() -> None:
    line = b"5;x=" + b"a" * (MAX_CHUNK_LINE - 6) + b"\r\n"
    assert len(line) == MAX_CHUNK_LINE
    assert exchange([CHUNKED + line + b"hello\r\n0\r\n\r\n"])[0][1:] == [("data", b"hello"), ("end",)]
    longer = line.replace(b"x=", b"x=a")
    assert exchange([CHUNKED + longer + b"hello\r\n0\r\n\r\n"])[0][-1] == ("error", 400)


def test_a_trailer_section_of_exactly_its_limit_is_taken_and_one_byte_more_is_not() -> None:
    # The trailer section, its empty last line included, is held to max_head.
    trailers = b"X: 12345678\r\n" * 7 + b"\r\n"
    assert len(trailers) == 93 > len(CHUNKED)
    assert exchange([CHUNKED + b"0\r\n" + trailers], max_head=93)[0][-1] == ("end",)
    assert exchange([CHUNKED + b"0\r\n" + trailers], max_head=92)[0][-1] == ("error", 400)


def test_data_events_compare_by_their_bytes() -> None:
    assert Data(b"a") == Data(b"a") and Data(b"a") != Data(b"b") and Data(b"a") != b"a"


@pytest.mark.parametrize(("where", "status"), [(63, 400), (64, 431)], ids=["last byte within", "first byte past"])
def test_a_bare_lf_at_the_edge_of_the_head_limit(where: int, status: int) -> None:
    # Within max_head a bare LF is the fault found first; past it, the head's size is.
    start = b"GET / HTTP/1.1\r\nHost: h\r\nX: "
    data = start + b"a" * (where - len(start)) + b"\nb\r\n\r\n"
    assert data.index(b"\n", len(start)) == where
    assert all_feeds(data, max_head=64) == [("error", status)]
