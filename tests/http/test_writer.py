"""Response framing and encoding."""

from __future__ import annotations

import pytest

from reactor.http.errors import StateError
from reactor.http.writer import PreparedResponse, ResponseWriter, encode_fields, error_page, status_line

DATE = b"Sat, 21 Nov 2026 12:00:00 GMT"


def head_lines(head: bytes) -> list[bytes]:
    assert head.endswith(b"\r\n\r\n")
    return head[:-4].split(b"\r\n")


def test_known_length_uses_content_length_and_carries_date_and_server() -> None:
    writer = ResponseWriter("GET", "HTTP/1.1")
    lines = head_lines(writer.head(200, [("Content-Type", "text/plain")], 5, DATE, True))
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert b"Date: " + DATE in lines
    assert b"Server: reactor" in lines
    assert b"Content-Length: 5" in lines
    assert not any(line.startswith(b"Connection") for line in lines)
    assert writer.body(b"hello") == b"hello"
    assert writer.end() == b""


def test_unknown_length_is_chunked_for_http11() -> None:
    writer = ResponseWriter("GET", "HTTP/1.1")
    assert b"Transfer-Encoding: chunked" in head_lines(writer.head(200, [], None, DATE, True))
    assert writer.body(b"hello") == b"5\r\nhello\r\n"
    assert writer.body(b"") == b""  # an empty chunk would end the body early
    assert writer.end() == b"0\r\n\r\n"


def test_unknown_length_for_http10_is_close_delimited() -> None:
    writer = ResponseWriter("GET", "HTTP/1.0")
    assert writer.close_delimited(200, None)
    assert not writer.close_delimited(200, 3) and not writer.close_delimited(304, None)
    assert not ResponseWriter("HEAD", "HTTP/1.0").close_delimited(200, None)
    assert not ResponseWriter("GET", "HTTP/1.1").close_delimited(200, None)
    lines = head_lines(writer.head(200, [], None, DATE, False))
    assert b"Connection: close" in lines and b"Transfer-Encoding: chunked" not in lines
    assert writer.body(b"abc") == b"abc"


def test_http10_keep_alive_is_confirmed() -> None:
    writer = ResponseWriter("GET", "HTTP/1.0")
    assert b"Connection: keep-alive" in head_lines(writer.head(200, [], 0, DATE, True))


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 204), ("GET", 304), ("GET", 101)])
def test_no_body_is_sent_for_head_1xx_204_304(method: str, status: int) -> None:
    writer = ResponseWriter(method, "HTTP/1.1")
    writer.head(status, [], 5 if status in (200, 304) else None, DATE, True)
    assert writer.body(b"hello") == b"", "the body a GET would carry is not sent"
    assert writer.end() == b""


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 304)])
def test_a_declared_length_without_a_body_is_complete_when_no_body_is_sent(method: str, status: int) -> None:
    # A WSGI app answers HEAD with the Content-Length of GET and no body (RFC 9110 8.6, 9.3.2).
    writer = ResponseWriter(method, "HTTP/1.1")
    writer.head(status, [], 1024, DATE, True)
    assert writer.end() == b""


def test_head_keeps_the_content_length_of_get() -> None:
    writer = ResponseWriter("HEAD", "HTTP/1.1")
    assert b"Content-Length: 1024" in head_lines(writer.head(200, [], 1024, DATE, True))


@pytest.mark.parametrize("version", ["HTTP/1.1", "HTTP/1.0"])
def test_head_of_unknown_length_has_no_framing_and_keeps_the_connection(version: str) -> None:
    # RFC 9112 6.3: a HEAD response ends at its head, so nothing frames a body and nothing needs a close.
    # RFC 9112 6.1: Transfer-Encoding only if GET would have used it, which the writer cannot know.
    writer = ResponseWriter("HEAD", version)
    assert not writer.close_delimited(200, None)
    lines = head_lines(writer.head(200, [], None, DATE, True))
    assert not any(line.startswith((b"Content-Length", b"Transfer-Encoding")) for line in lines)
    assert b"Connection: close" not in lines
    assert not writer.chunked


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_have_no_content_length(status: int) -> None:
    # RFC 9110 8.6: none in a 204; a 304 may repeat the 200's, and this writer leaves it out.
    writer = ResponseWriter("GET", "HTTP/1.1")
    assert not any(b"Content-Length" in line for line in head_lines(writer.head(status, [], 5, DATE, True)))


def test_body_past_content_length_raises_and_short_body_raises_at_end() -> None:
    writer = ResponseWriter("GET", "HTTP/1.1")
    writer.head(200, [], 3, DATE, True)
    with pytest.raises(StateError, match=r"^response body longer than its Content-Length$"):
        writer.body(b"abcd")
    writer.body(b"ab")
    with pytest.raises(StateError):
        writer.end()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X", "a\r\nInjected: 1"),
        ("X", "a\nb"),
        ("X", "a\rb"),
        ("X", "\0"),
        ("X\r\nY", "1"),
        ("X\nY", "1"),
        ("X\rY", "1"),
        ("X:Y", "1"),
    ],
)
def test_header_injection_is_refused(name: str, value: str) -> None:
    # Each of CR, LF and NUL alone is refused in a value, each of CR, LF and the colon in a name.
    with pytest.raises(ValueError, match="invalid header"):
        ResponseWriter("GET", "HTTP/1.1").head(200, [(name, value)], 0, DATE, True)


def test_fields_are_encoded_a_line_each_in_their_order() -> None:
    assert encode_fields([("A", "1"), ("B", "\xe9")]) == b"A: 1\r\nB: \xe9\r\n"


def test_closing_response_says_so() -> None:
    writer = ResponseWriter("GET", "HTTP/1.1")
    assert b"Connection: close" in head_lines(writer.head(200, [], 0, DATE, False))


def test_status_line_for_unknown_code_has_empty_reason() -> None:
    assert status_line(299) == b"HTTP/1.1 299 \r\n"
    assert status_line(999) == b"HTTP/1.1 999 \r\n", "three digits, the last of them"
    for status in (99, 1000):
        with pytest.raises(ValueError, match=f"invalid status code {status}"):
            status_line(status)


def test_error_page_says_the_reason_unless_given_a_detail() -> None:
    assert b"<title>404 Not Found</title>" in error_page(404) and b"<p>Not Found</p>" in error_page(404)
    assert b"<title>599 Error</title>" in error_page(599) and b"<p>Error</p>" in error_page(599)


def test_error_page_escapes_its_detail() -> None:
    page = error_page(404, "<script>")
    assert b"404 Not Found" in page
    assert b"<script>" not in page


def test_a_prepared_response_frames_each_form_once_a_second() -> None:
    # A cached file's answer is framed once per form and Date, then handed out as it is.
    prepared = PreparedResponse(200, encode_fields([("Content-Type", "text/plain")]), b"hello")
    head, writer = prepared.framed("GET", "HTTP/1.1", "HTTP/1.1", DATE, True)
    assert prepared.framed("GET", "HTTP/1.1", "HTTP/1.1", DATE, True) == (head, writer)
    assert prepared.framed("GET", "HTTP/1.1", "HTTP/1.1", DATE, True)[0] is head, "not made again"
    head_only, _ = prepared.framed("HEAD", "HTTP/1.1", "HTTP/1.1", DATE, True)
    assert head_only is not head and b"Content-Length: 5\r\n" in head_only
    later = DATE.replace(b"12:00:00", b"12:00:01")
    assert prepared.framed("GET", "HTTP/1.1", "HTTP/1.1", later, True)[0] == head.replace(DATE, later)
