"""Every refusal says why: the status and the detail the error page shows the client, for each rule
of the head's framing and of chunked bodies, and the limits exactly at their edge."""

from __future__ import annotations

import pytest

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


GET = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"


def head(extra: bytes, request_line: bytes = b"GET / HTTP/1.1") -> bytes:
    """A head with ``extra`` field lines after Host."""
    return request_line + b"\r\nHost: h\r\n" + extra + b"\r\n"


# The head's rules, in the order the parser meets them.
REFUSALS += [
    refusal("a start that is no request", b"\x16\x03\x01\x02\x00\x01", 400, "not an HTTP request"),
    refusal("a control byte in a request line", b"GET /\x01", 400, "malformed request line"),
    refusal("a request line with no end", b"GET /" + b"a" * 100, 414, "request line too long", max_request_line=64),
    refusal(
        "a whole request line too long",
        GET.replace(b"/", b"/" + b"a" * 100, 1),
        414,
        "request line too long",
        max_request_line=64,
    ),
    refusal("two spaces in a request line", GET.replace(b" /", b"  /"), 400, "malformed request line"),
    refusal("a request line ended by a bare LF", GET.replace(b"1.1\r\n", b"1.1\n"), 400, "bare LF in the head"),
    refusal("a bare CR in a field", head(b"X: a\rb\r\n"), 400, "bare CR in the head"),
    refusal("a bare LF in a field", head(b"X: a\nb\r\n"), 400, "bare LF in the head"),
    refusal("a head with no end", b"GET / HTTP/1.1\r\nX: " + b"a" * 100, 431, "request head too large", max_head=64),
    refusal(
        "a head cut by the end of stream", b"GET / HTTP/1.1\r\nHo", 400, "connection closed inside a request head", True
    ),
    refusal("one field too many", head(b"A: 1\r\nB: 2\r\n"), 431, "too many header fields", max_headers=2),
    refusal("a folded field", head(b"X: a\r\n b\r\n"), 400, "obsolete line folding"),
    refusal("a field folded with a tab", head(b"X: a\r\n\tb\r\n"), 400, "obsolete line folding"),
    refusal("a field without a colon", head(b"X\r\n"), 400, "header line without a colon"),
    refusal("whitespace before the colon", head(b"X : a\r\n"), 400, "invalid header name"),
    refusal("a control byte in a value", head(b"X: a\x01b\r\n"), 400, "control character in a header value"),
    # Only SP and HTAB are stripped around a value: a vertical tab or form feed at its end is a control.
    refusal("a control byte ending a value", head(b"X: a\x0b\r\n"), 400, "control character in a header value"),
    refusal("a form feed before a value", head(b"X: \x0ca\r\n"), 400, "control character in a header value"),
    refusal("an unknown version", GET.replace(b"1.1", b"2.0"), 505, "HTTP version not supported"),
    refusal(
        "CONNECT without a port", head(b"", b"CONNECT example.org HTTP/1.1"), 400, "malformed authority-form target"
    ),
    refusal("an asterisk outside OPTIONS", head(b"", b"GET * HTTP/1.1"), 400, "asterisk-form target outside OPTIONS"),
    refusal("a relative target", head(b"", b"GET a/b HTTP/1.1"), 400, "malformed request target"),
    refusal("an ftp target", head(b"", b"GET ftp://h/ HTTP/1.1"), 400, "malformed request target"),
    refusal(
        "an absolute target without a host",
        head(b"", b"GET http:///a HTTP/1.1"),
        400,
        "malformed authority in the request target",
    ),
    refusal(
        "a broken escape in the path", head(b"", b"GET /a%zz HTTP/1.1"), 400, "malformed percent-encoding in the path"
    ),
    refusal("two Host fields", head(b"Host: i\r\n"), 400, "more than one Host field"),
    refusal("a Host that is no host", GET.replace(b"Host: h", b"Host: a@b"), 400, "invalid Host field"),
    refusal("no Host from HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n", 400, "missing Host field"),
    refusal("an expectation we cannot meet", head(b"Expect: 200-ok\r\n"), 417, "unsupported expectation"),
    refusal("chunked twice", CHUNKED.replace(b"chunked", b"chunked, chunked"), 400, "chunked applied more than once"),
    refusal("two Content-Length values", head(b"Content-Length: 1, 2\r\n"), 400, "conflicting Content-Length values"),
    refusal("a signed Content-Length", head(b"Content-Length: +1\r\n"), 400, "invalid Content-Length"),
    # A Content-Length is digits and nothing else: no letter, and no no-break space (0xA0, which
    # Python's str.strip() would take for whitespace) around them.
    refusal("a letter after a Content-Length", head(b"Content-Length: 5X\r\n"), 400, "invalid Content-Length"),
    refusal("a no-break space and a Content-Length", head(b"Content-Length: \xa05\r\n"), 400, "invalid Content-Length"),
    refusal("a Content-Length of 19 digits", head(b"Content-Length: " + b"9" * 19 + b"\r\n"), 413, OVER_10),
    refusal("a Content-Length over the limit", head(b"Content-Length: 11\r\n"), 413, OVER_10),
    refusal(
        "a whole request line too long, a control byte past the limit",
        GET.replace(b"/", b"/" + b"a" * 100 + b"\x01", 1),
        414,
        "request line too long",
        max_request_line=64,
    ),
    refusal(
        "a colon and a control byte in a value", head(b"X: a:\x01b\r\n"), 400, "control character in a header value"
    ),
    refusal("a bare LF right after the request line", b"GET / HTTP/1.1\r\n\nHo", 400, "bare LF in the head", True),
    refusal(
        "a request line two bytes too long, cut (65 may be 64 and its CR)",
        b"GET /" + b"a" * 61,
        414,
        "request line too long",
        True,
        max_request_line=64,
    ),
    refusal("a bad byte in the request after one", GET + b"GET /\x01", 400, "malformed request line"),
    refusal(
        "a whole request line too long, a control byte within the limit",
        GET.replace(b"/", b"/\x01" + b"a" * 100, 1),
        400,
        "malformed request line",
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


def test_an_unfinished_size_line_is_refused_as_soon_as_it_cannot_end_within_its_limit() -> None:
    # MAX_CHUNK_LINE bytes without their LF: with it the line would be one byte too long.
    assert exchange([CHUNKED + b"5;x=" + b"a" * (MAX_CHUNK_LINE - 4)])[0][-1] == ("error", 400)
    assert exchange([CHUNKED + b"5;x=" + b"a" * (MAX_CHUNK_LINE - 6) + b"\r"])[0][-1] != ("error", 400)


def test_a_trailer_section_of_exactly_its_limit_is_taken_and_one_byte_more_is_not() -> None:
    # The trailer section, its empty last line included, is held to max_head.
    trailers = b"X: 12345678\r\n" * 7 + b"\r\n"
    assert len(trailers) == 93 > len(CHUNKED)
    assert exchange([CHUNKED + b"0\r\n" + trailers], max_head=93)[0][-1] == ("end",)
    assert exchange([CHUNKED + b"0\r\n" + trailers], max_head=92)[0][-1] == ("error", 400)


@pytest.mark.parametrize(("where", "status"), [(63, 400), (64, 431)], ids=["last byte within", "first byte past"])
def test_a_bare_lf_at_the_edge_of_the_head_limit(where: int, status: int) -> None:
    # Within max_head a bare LF is the fault found first; past it, the head's size is.
    start = b"GET / HTTP/1.1\r\nHost: h\r\nX: "
    data = start + b"a" * (where - len(start)) + b"\nb\r\n\r\n"
    assert data.index(b"\n", len(start)) == where
    assert all_feeds(data, max_head=64) == [("error", status)]


def test_a_content_length_of_eighteen_digits_is_held_to_the_limit_alone() -> None:
    # Past eighteen significant digits a length is refused unread; up to them only max_body decides.
    length = 10**17
    assert all_feeds(LENGTH % length, max_body=length)[0][8] == length


def test_an_unfinished_head_of_exactly_max_head_bytes_waits_for_the_rest() -> None:
    start = b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 36
    assert len(start) == 64
    assert exchange([start], max_head=64) == ([], b"")
    assert exchange([start + b"a"], max_head=64)[0] == [("error", 431)]
