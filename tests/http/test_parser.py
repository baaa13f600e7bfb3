"""The request parser, fed whole, byte by byte and split at every index: same events every time."""

from __future__ import annotations

import pytest

from reactor.http.errors import ProtocolError
from reactor.http.events import NEED_DATA, PAUSED, PEER_CLOSED, Request
from reactor.http.fields import FieldLineCache
from reactor.http.parser import RequestLineCache
from reactor.http.serverconnection import ServerConnection
from reactor.http.state import Phase
from tests.http.helpers import all_feeds, count_scans, feed, make_connection

SIMPLE = b"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"


def request_of(events: list[tuple[object, ...]], index: int = 0) -> tuple[object, ...]:
    return [event for event in events if event[0] == "request"][index]


def test_simple_get_gives_one_request_with_split_target() -> None:
    events = all_feeds(SIMPLE)
    assert len(events) == 1
    _, method, target, path, query, version, headers, host, length, chunked, keep_alive, expect = events[0]
    assert (method, target, path, query, version) == ("GET", "/index.html?x=1", "/index.html", "x=1", "HTTP/1.1")
    assert headers == (("host", "example.com"), ("user-agent", "t"))
    assert (host, length, chunked, keep_alive, expect) == ("example.com", None, False, True, False)


def test_pipelined_requests_come_out_in_order() -> None:
    data = b"".join(b"GET /%d HTTP/1.1\r\nHost: h\r\n\r\n" % i for i in range(5))
    events = all_feeds(data)
    assert [event[2] for event in events] == [f"/{i}" for i in range(5)]


def test_parser_pauses_after_a_request_until_the_response_is_done() -> None:
    connection = make_connection()
    connection.receive_data(SIMPLE + SIMPLE)
    assert isinstance(connection.next_event(), Request)
    assert connection.next_event() is PAUSED
    assert connection.next_event() is PAUSED  # the second request waits: responses leave in order
    assert connection.phase is Phase.HANDLING


def test_content_length_body_is_delivered_then_end() -> None:
    data = b"POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
    events = all_feeds(data)
    assert events[1:] == [("data", b"hello world"), ("end",)]
    assert events[0][8] == 11


def test_chunked_body_is_decoded_and_trailers_dropped() -> None:
    data = (
        b"POST /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\nhello\r\n6;ext=1;q="a b"\r\n world\r\n0\r\nTrailer-Field: x\r\n\r\n'
        b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    events = all_feeds(data)
    assert events[1:3] == [("data", b"hello world"), ("end",)]
    assert events[3][2] == "/next"


def test_leading_empty_lines_before_a_request_are_ignored() -> None:
    assert all_feeds(b"\r\n\r\n" + SIMPLE)[0][1] == "GET"


# RFC 9112 2.2 lets a recipient read a bare LF as a line end; we refuse it, and a bare CR, anywhere in a
# head: a front end that passes a LF inside a field value would otherwise have us read a second field,
# here a Content-Length framing a request of the attacker's inside the body.
BARE_LINE_ENDS = [
    (b"GET / HTTP/1.1\nHost: h\n\n", "bare LF in the head"),
    (b"GET / HTTP/1.1\nHost: h\r\n\r\n", "bare LF in the head"),
    (b"GET / HTTP/1.1\r\nHost: h\n\r\n", "bare LF in the head"),
    (b"GET / HTTP/1.1\r\nHost: h\r\n\n", "bare LF in the head"),
    (
        b"GET / HTTP/1.1\r\nHost: h\r\nDummy: x\nContent-Length: 23\r\n\r\nGET /admin HTTP/1.1\r\n\r\n",
        "bare LF in the head",
    ),
    (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", "bare CR in the head"),
    (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\r\n\r\n", "bare CR in the head"),
    (b"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "not an HTTP request"),
]


@pytest.mark.parametrize(("data", "reason"), BARE_LINE_ENDS)
def test_a_bare_lf_or_cr_anywhere_in_the_head_is_refused_in_any_cutting(data: bytes, reason: str) -> None:
    connection = make_connection()
    connection.receive_data(data)
    with pytest.raises(ProtocolError) as raised:
        connection.next_event()
    assert (raised.value.status, raised.value.reason) == (400, reason)
    assert all_feeds(data) == [("error", 400)]  # whole, byte by byte, split at every index


def test_a_bare_lf_is_refused_as_soon_as_it_arrives_not_when_the_head_ends() -> None:
    connection = make_connection()
    connection.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\nDummy: x\nContent-")  # no end of head yet
    with pytest.raises(ProtocolError, match="bare LF"):
        connection.next_event()


def test_a_cr_at_the_end_of_what_arrived_waits_for_its_lf() -> None:
    connection = make_connection()
    connection.receive_data(b"GET / HTTP/1.1\r\nHost: h\r")
    assert connection.next_event() is NEED_DATA
    connection.receive_data(b"\n\r\n")
    assert isinstance(connection.next_event(), Request)


def test_header_values_lose_surrounding_whitespace_and_keep_inner() -> None:
    events = all_feeds(b"GET / HTTP/1.1\r\nHost: h\r\nX-A: \t a  b \t\r\nX-Empty:\r\n\r\n")
    assert events[0][6] == (("host", "h"), ("x-a", "a  b"), ("x-empty", ""))


def test_obs_text_in_a_value_is_kept_as_latin1() -> None:
    events = all_feeds(b"GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\xe9\r\n\r\n")
    assert events[0][6][1] == ("x-a", "caf\xe9")


def test_http10_closes_unless_keep_alive_is_asked() -> None:
    assert all_feeds(b"GET / HTTP/1.0\r\n\r\n")[0][10] is False
    assert all_feeds(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")[0][10] is True


def test_http11_connection_close_ends_keep_alive() -> None:
    data = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n" + SIMPLE
    events = all_feeds(data)
    assert len(events) == 1, "nothing is parsed after a request that closes the connection"
    assert events[0][10] is False


def test_higher_minor_version_is_treated_as_http11() -> None:
    assert all_feeds(b"GET / HTTP/1.7\r\nHost: h\r\n\r\n")[0][5] == "HTTP/1.1"


def test_absolute_form_target_gives_path_and_host() -> None:
    events = all_feeds(b"GET http://example.org:8080/a/b?q=1 HTTP/1.1\r\nHost: other\r\n\r\n")
    assert events[0][3:5] == ("/a/b", "q=1")
    assert events[0][7] == "example.org:8080"


def test_asterisk_form_is_accepted_for_options_only() -> None:
    assert all_feeds(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")[0][3] == "*"
    assert all_feeds(b"GET * HTTP/1.1\r\nHost: h\r\n\r\n") == [("error", 400)]


def test_expect_100_continue_is_flagged_for_http11_only() -> None:
    assert all_feeds(b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n")[0][11]
    assert not all_feeds(b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n")[0][11]


def test_eof_between_requests_is_a_clean_close() -> None:
    assert feed([SIMPLE], eof=True)[-1] == ("signal", PEER_CLOSED)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host (RFC 9112 3.2)
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),  # several Host fields
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),  # invalid Host
        (b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        (b"GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505),
        (b"GET / HTTP/01.1\r\nHost: h\r\n\r\n", 400),
        (b"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # two spaces
        (b"GET /\tx HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # DEL in the target (non-ASCII is percent-encoded)
        (b"GET / http/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),  # HTTP/0.9
        (b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # method is not a token
        (b"GET x HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # not a valid target form
        (b"GET / HTTP/1.1\r\nHost: h\r\n Folded: x\r\n\r\n", 400),  # obs-fold
        (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\tfold\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),  # whitespace before the colon
        (b"GET / HTTP/1.1\r\nHost: h\r\nNo-Colon\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n", 400),  # NUL in a value
        (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7fb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400),  # bare CR
        (b"GET / HTTP/1.1\rHost: h\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n", 417),
        (b"GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # a fragment is never sent (RFC 9110 7.1)
        (b"GET /?q#b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # malformed escape in the path (RFC 3986 2.1)
        (b"GET /a%4 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET /a% HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET http:///a HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # empty host (RFC 9110 4.2.1)
        (b"GET http://:80/a HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET http://a%zz/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET http://a/%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET http://u@a/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # userinfo
        (b"GET ftp://a/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"CONNECT a HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # authority-form needs a port (RFC 9112 3.2.3)
        (b"CONNECT :443 HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"CONNECT /a HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"CONNECT a:443/x HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    ],
)
def test_malformed_heads_are_rejected_with_their_status(data: bytes, status: int) -> None:
    assert all_feeds(data) == [("error", status)]


@pytest.mark.parametrize(
    ("framing", "status"),
    [
        (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400),  # smuggling vector
        (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
        (b"Content-Length: 5\r\nContent-Length: 6\r\n", 400),
        (b"Content-Length: 5, 6\r\n", 400),
        (b"Content-Length: abc\r\n", 400),
        (b"Content-Length: -1\r\n", 400),
        (b"Content-Length: +5\r\n", 400),  # int() would take it
        (b"Content-Length: 0x5\r\n", 400),
        (b"Content-Length: 1_0\r\n", 400),  # int() would take it
        (b"Content-Length: \xd9\xa5\r\n", 400),  # Arabic-Indic five: int() would take it
        (b"Content-Length: 5 5\r\n", 400),
        (b"Content-Length: ,\r\n", 400),
        (b"Content-Length: 99999999999999999999999\r\n", 413),
        (b"Content-Length: 2000000\r\n", 413),
        (b"Transfer-Encoding: gzip\r\n", 400),  # final coding is not chunked
        (b"Transfer-Encoding: chunked, gzip\r\n", 400),
        (b"Transfer-Encoding: gzip, chunked\r\n", 501),  # a coding we do not implement
        (b"Transfer-Encoding: identity\r\n", 400),
        (b"Transfer-Encoding: chunked, chunked\r\n", 400),
        (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400),
        (b"Transfer-Encoding: \xcchunked\r\n", 400),
        (b"Transfer-Encoding: xchunked\r\n", 400),
    ],
)
def test_ambiguous_or_unsupported_framing_is_rejected(framing: bytes, status: int) -> None:
    data = b"POST / HTTP/1.1\r\nHost: h\r\n" + framing + b"\r\n"
    assert all_feeds(data) == [("error", status)]


def test_identical_repeated_content_length_is_accepted() -> None:
    data = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc"
    assert all_feeds(data)[1:] == [("data", b"abc"), ("end",)]


def test_transfer_encoding_in_http10_is_rejected() -> None:
    data = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert all_feeds(data) == [("error", 400)]


@pytest.mark.parametrize(
    "body",
    [
        b"5\r\nhelloXX0\r\n\r\n",  # no CRLF after chunk data
        b"5\r\nhello\n0\r\n\r\n",
        b"x\r\nhello\r\n0\r\n\r\n",  # not hex
        b"+5\r\nhello\r\n0\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b" 5\r\nhello\r\n0\r\n\r\n",
        b"5 \r\nhello\r\n0\r\n\r\n",  # BWS is only allowed before a ';'
        b"5\nhello\r\n0\r\n\r\n",  # bare LF after the size
        b"5\rhello\r\n0\r\n\r\n",
        b"\xd9\xa5\r\nhello\r\n0\r\n\r\n",
        b"1_0\r\n0123456789abcdef\r\n0\r\n\r\n",
        b"5;\r\nhello\r\n0\r\n\r\n",  # extension without a name
        b'5;a="x\r\nhello\r\n0\r\n\r\n',  # unterminated quoted string
        b"10000000000000000\r\n",  # 17 hex digits: overflow
        b"5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n",
        b"5\r\nhello\r\n0\r\nX: a\x00b\r\n\r\n",
    ],
)
def test_malformed_chunked_bodies_are_rejected(body: bytes) -> None:
    data = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    events = all_feeds(data)
    assert events[-1] == ("error", 400)


def test_chunked_body_over_the_limit_is_413() -> None:
    data = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + b"400\r\n" + b"x" * 1024 + b"\r\n"
    assert feed([data * 1], max_body=1000)[-1] == ("error", 413)


def test_chunk_line_with_endless_extensions_is_rejected() -> None:
    data = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5" + b";a=b" * 2000
    assert feed([data])[-1] == ("error", 400)


def test_long_request_line_is_414_even_before_it_ends() -> None:
    line = b"GET /" + b"a" * 9000
    assert feed([line]) == [("error", 414)]
    assert feed([line + b" HTTP/1.1\r\nHost: h\r\n\r\n"]) == [("error", 414)]


def test_a_request_line_past_the_head_limit_too_is_414_however_it_arrives() -> None:
    """Found by the simulation (seeds 132, 1784): with the head limit no larger than the line limit,
    a head still arriving was answered 431 while the same head whole was answered 414."""
    data = b"GET /" + b"a" * 600 + b" HTTP/1.1\r\nHost: h\r\n\r\n"
    assert all_feeds(data, max_request_line=512, max_head=512) == [("error", 414)]
    assert all_feeds(data, max_request_line=600, max_head=500) == [("error", 414)]


def test_large_head_is_431_even_before_it_ends() -> None:
    head = b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X-Pad: " + b"a" * 1000 + b"\r\n"
    assert feed([head * 40]) == [("error", 431)]
    assert feed([head * 40 + b"\r\n"]) == [("error", 431)]


def test_too_many_header_fields_is_431() -> None:
    head = b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X: y\r\n" * 101 + b"\r\n"
    assert feed([head]) == [("error", 431)]


def test_eof_inside_a_head_or_body_is_400() -> None:
    assert feed([b"GET / HTTP/1.1\r\nHo"], eof=True) == [("error", 400)]
    events = feed([b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"], eof=True)
    assert events[-1] == ("error", 400)


@pytest.mark.parametrize(
    "start",
    [
        b"GET / HTTP/1.1\r\nHost: h\r\nX: ",  # the search for the end of the head, and for bare CR or LF
        b"GET /",  # the scan of an unfinished request line
    ],
)
def test_each_byte_of_a_trickling_head_costs_a_bounded_scan(start: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    # One byte at a time (slowloris): if each arrival rescanned what was searched before, a head of n
    # bytes would cost n^2 / 2 bytes of scanning, a stalled loop. Counted, not timed: the scans of
    # the 4,000th byte must cost what those of the 1st did.
    scans = count_scans(monkeypatch)
    connection = make_connection()
    connection.receive_data(start)
    assert connection.next_event() is NEED_DATA
    costs = []
    for _ in range(4000):
        before = scans.total
        connection.receive_data(b"a")
        assert connection.next_event() is NEED_DATA
        costs.append(scans.total - before)
    assert max(costs) <= 64, f"the first byte cost a scan of {costs[0]} bytes, the last {costs[-1]}: a rescan"


SPACES_THEN_A_CONTROL = b"X:" + b" \t" * 16000 + b"\x01\r\n\r\n"  # under the 32 KiB head and trailer limits


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: h\r\n" + SPACES_THEN_A_CONTROL,
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + SPACES_THEN_A_CONTROL,
    ],
    ids=["header field", "trailer field"],
)
def test_whitespace_before_a_control_byte_is_rejected_in_linear_time(data: bytes) -> None:
    # A field-line pattern in which OWS and the value can both match the same spaces backtracks
    # quadratically here: seconds of a stalled loop for one request. The bounded timeout catches it.
    for _ in range(20):
        assert feed([data])[-1] == ("error", 400)


def test_malformed_escapes_in_the_query_are_left_to_the_application() -> None:
    # The query is opaque to the server; browsers send a typed "100%" as is.
    assert all_feeds(b"GET /a?q=100% HTTP/1.1\r\nHost: h\r\n\r\n")[0][4] == "q=100%"


def test_valid_escapes_in_the_path_are_kept_encoded() -> None:
    assert all_feeds(b"GET /a%2Fb%c3%A9 HTTP/1.1\r\nHost: h\r\n\r\n")[0][3] == "/a%2Fb%c3%A9"


def test_connect_takes_an_authority_form_target() -> None:
    events = all_feeds(b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n")
    assert events[0][1:4] == ("CONNECT", "example.org:443", "")
    assert events[0][7] == "example.org:443"


@pytest.mark.parametrize(
    ("start", "status"),
    [
        (b"GET /\x00", 400),  # a NUL: no request line holds it
        (b"GET /a\tb", 400),
        (b"GET /a\rb", 400),  # a bare CR
        (b"GET /\x7f", 400),
        (b"hello there \x01", 400),
        (b"GET / HTTP/2.0\r\n", 505),  # a complete request line is judged before the head ends
        (b"GET / HTTP/1.1 x\r\nHost: h\r\n", 400),
        (b"GET /#frag HTTP/1.1\r\n", 400),
    ],
)
def test_an_invalid_request_line_is_answered_before_the_head_ends(start: bytes, status: int) -> None:
    # No empty line has arrived: nothing is left to wait for, so no header timeout is needed.
    assert all_feeds(start) == [("error", status)]


def test_a_long_request_line_with_a_bad_byte_early_is_400_in_any_chunking() -> None:
    line = b"GET /\x00" + b"a" * 9000
    assert all_feeds(line[:40] + line[-4:]) == [("error", 400)]
    assert feed([line]) == feed([line[:7], line[7:]]) == [("error", 400)]
    assert feed([line + b" HTTP/1.1\r\nHost: h\r\n\r\n"]) == [("error", 400)]


@pytest.mark.parametrize(("padding", "expected"), [(0, "request"), (1, "error")])
def test_a_request_line_at_its_limit_is_accepted_and_one_byte_more_is_414(padding: int, expected: str) -> None:
    # Found by the fuzzer: the CR of a line exactly at the limit once counted against it when cut.
    line = b"GET /" + b"a" * (64 - len(b"GET / HTTP/1.1") + padding) + b" HTTP/1.1"
    events = all_feeds(line + b"\r\nHost: h\r\n\r\n", max_request_line=64)
    assert events[0][0] == expected
    assert expected == "request" or events == [("error", 414)]


# RFC 9112 3.2 wants an ASCII target; curl and scripts send UTF-8 raw ("curl 'http://h/?q=ü'"), so the
# parser accepts bytes 0x80-0xFF there and percent-encodes them where they stand: past it, a raw
# target looks exactly like the encoded one a browser sends.
@pytest.mark.parametrize(
    ("raw", "target", "path", "query"),
    [
        (b"/?q=\xc3\xbc", "/?q=%C3%BC", "/", "q=%C3%BC"),
        (b"/\xc3\xbc.txt", "/%C3%BC.txt", "/%C3%BC.txt", ""),
        (b"/a%20b?x=\xff", "/a%20b?x=%FF", "/a%20b", "x=%FF"),
    ],
)
def test_non_ascii_bytes_in_the_target_are_percent_encoded(raw: bytes, target: str, path: str, query: str) -> None:
    events = all_feeds(b"GET " + raw + b" HTTP/1.1\r\nHost: h\r\n\r\n")
    assert events[0][2:5] == (target, path, query)


@pytest.mark.parametrize("raw", [b"/a\x01b", b"/a\x7fb", b"/a\tb", b"/a#b"])
def test_control_bytes_and_fragments_in_the_target_are_still_refused(raw: bytes) -> None:
    assert all_feeds(b"GET " + raw + b" HTTP/1.1\r\nHost: h\r\n\r\n") == [("error", 400)]


def test_a_non_ascii_method_is_no_request() -> None:
    assert all_feeds(b"G\xc3\xa9T / HTTP/1.1\r\nHost: h\r\n\r\n") == [("error", 400)]


def request_from(connection: ServerConnection, data: bytes) -> Request:
    connection.receive_data(data)
    event = connection.next_event()
    assert isinstance(event, Request), event
    return event


def answered(connection: ServerConnection) -> None:
    connection.send_response(200, [], b"")
    connection.start_next_cycle()


def test_the_connections_of_a_server_share_the_lines_they_parsed() -> None:
    field_lines, request_lines = FieldLineCache(), RequestLineCache()
    first = make_connection(field_lines=field_lines, request_lines=request_lines)
    request_from(first, SIMPLE)
    assert b"GET /index.html?x=1 HTTP/1.1" in request_lines and b"User-Agent: t" in field_lines
    assert "example.com" in field_lines.hosts


def test_what_a_known_line_skips_is_only_what_was_checked_before() -> None:
    # A request line, a field line and a Host seen before spare their checks, not the others.
    connection = make_connection(limits={"max_head": 100})
    request_from(connection, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    answered(connection)
    connection.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 100 + b"\r\n\r\n")
    with pytest.raises(ProtocolError) as raised:
        connection.next_event()
    assert raised.value.status == 431, "a known request line in a head too large"
    connection = make_connection()
    request_from(connection, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    answered(connection)
    connection.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n")
    with pytest.raises(ProtocolError, match="more than one Host field"):
        connection.next_event()
    connection = make_connection()
    request_from(connection, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    answered(connection)
    assert request_from(connection, b"GET http://other/a HTTP/1.1\r\nHost: h\r\n\r\n").host == "other"


def test_a_head_of_remembered_lines_only_is_still_held_to_its_limits() -> None:
    for limits, status in (({"max_head": 64}, 431), ({"max_headers": 5}, 431)):
        connection = make_connection(limits=limits)
        request_from(connection, b"GET / HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n")
        answered(connection)
        connection.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X: y\r\n" * 10 + b"\r\n")
        with pytest.raises(ProtocolError) as raised:
            connection.next_event()
        assert raised.value.status == status, limits


def test_an_http10_request_without_host_has_an_empty_one() -> None:
    assert all_feeds(b"GET / HTTP/1.0\r\n\r\n")[0][7] == ""


def test_a_request_with_framing_fields_keeps_every_part() -> None:
    request = all_feeds(b"GET /a?q=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")[0]
    # (target, path, query, version, host, length, chunked, keep-alive, expect)
    assert request[2:6] + request[7:] == ("/a?q=1", "/a", "q=1", "HTTP/1.1", "h", None, False, False, False)
    assert all_feeds(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")[0][10] is False


@pytest.mark.parametrize(
    ("line", "path", "query", "host"),
    [
        (b"CONNECT example.org:443", "", "", "example.org:443"),
        (b"OPTIONS *", "*", "", "h"),
        (b"GET https://secure/a?b", "/a", "b", "secure"),
        (b"GET http://bare", "/", "", "bare"),
        (b"GET http://bare?x=1", "/", "x=1", "bare"),
    ],
)
def test_each_target_form_gives_its_path_query_and_host(line: bytes, path: str, query: str, host: str) -> None:
    request = all_feeds(line + b" HTTP/1.1\r\nHost: h\r\n\r\n")[0]
    assert (request[3], request[4], request[7]) == (path, query, host)


@pytest.mark.parametrize(
    ("limits", "data"),
    [
        ({"max_head": 64}, b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 32 + b"\r\n\r\n"),
        ({"max_headers": 2}, b"GET / HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n"),
        ({"max_request_line": 64}, b"GET /" + b"a" * 50 + b" HTTP/1.1\r\nHost: h\r\n\r\n"),
    ],
    ids=["a head of max_head bytes", "max_headers fields", "a request line of max_request_line bytes"],
)
def test_a_head_exactly_at_a_limit_is_taken(limits: dict[str, int], data: bytes) -> None:
    assert len(data) == 64 or "max_head" not in limits
    assert len(data.split(b"\r\n")[0]) == 64 or "max_request_line" not in limits
    assert all_feeds(data, False, **limits)[0][0] == "request"
