"""The shortcuts answer exactly as the long way does: a field line, request line or whole head
remembered from an earlier request (FieldLineCache, RequestLineCache, HeadCache) parses as it did the
first time, the Host pattern written for speed accepts exactly the strings of RFC 3986's grammar as
spelled out, a response framed once for many requests (PreparedResponse) sends the bytes and moves
the cycle as send_response does, and a read that is one whole head (whole_request), answered at once
(send_prepared_at_once), gives the events, bytes and state of the cycle's hops one by one."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reactor.http import parser
from reactor.http.errors import ProtocolError, StateError
from reactor.http.events import Request
from reactor.http.fields import FieldLineCache, parse_field_line
from reactor.http.parser import HeadCache, RequestLineCache
from reactor.http.serverconnection import ServerConnection
from reactor.http.state import Phase
from reactor.http.writer import PreparedResponse
from tests.http.helpers import Normalized, describe, drain, make_connection

# RFC 3986 3.2.2 as written: uri-host = IP-literal / reg-name, reg-name = *( unreserved / pct-encoded
# / sub-delims ), one alternation per character.
_SPELLED_OUT_HOST = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?", re.ASCII
)

host_texts = st.lists(
    st.sampled_from([*"aZ09-._~!$&'()*+,;=%:[]/@ é\t", "%2f", "%4", "%zz", "[::1]", "127.0.0.1", ":80"]),
    max_size=12,
).map("".join)


@settings(max_examples=1000)
@given(host_texts)
def test_the_host_pattern_accepts_what_the_grammar_spelled_out_accepts(text: str) -> None:
    assert (parser._HOST.fullmatch(text) is None) == (_SPELLED_OUT_HOST.fullmatch(text) is None)


LINE_PIECES = [b"Host", b"Accept", b"X-A", b":", b" ", b"\t", b"a", b"1", b"/", b"\x00", b"\x7f", b"\xe9", b"\x01"]
field_lines = st.lists(st.sampled_from(LINE_PIECES), min_size=1, max_size=10).map(b"".join)


def _exchange(
    heads: list[bytes],
    field_lines: FieldLineCache | None,
    request_lines: RequestLineCache | None = None,
    head_cache: HeadCache | None = None,
) -> tuple[list[Normalized], bytes]:
    """Each head on its own connection, in turn; their events and answer bytes, error pages included."""
    events: list[Normalized] = []
    responses: list[bytes] = []
    for head in heads:
        connection = make_connection(field_lines=field_lines, request_lines=request_lines, heads=head_cache)
        try:
            connection.receive_data(head)
            drain(connection, events, responses)
        except ProtocolError as error:
            events.append(("error", error.status))
            responses.append(connection.send_error(error.status, error.reason))
    return events, b"".join(responses)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(field_lines, max_size=4), min_size=1, max_size=4))
def test_remembered_field_lines_give_the_events_and_bytes_of_a_first_parse(requests: list[list[bytes]]) -> None:
    heads = [
        b"GET / HTTP/1.1\r\nHost: h\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n" for lines in requests
    ]
    # Each head alone, parsed with nothing remembered, against all of them twice through one cache.
    first_parses = [_exchange([head], None) for head in heads]
    expected = (
        [event for events, _ in first_parses for event in events] * 2,
        b"".join(answer for _, answer in first_parses) * 2,
    )
    assert _exchange(heads * 2, FieldLineCache()) == expected


REQUEST_LINE_PIECES = [
    *(b"GET", b"HEAD", b"CONNECT", b"OPTIONS", b" ", b"/", b"*", b"?", b"%", b"%2f", b"%zz", b"#"),
    *(b"http://", b"h:80", b"a", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"\t", b"\xe9"),
]
# Mostly well-formed lines (method SP target SP version) with odd targets, and some of any bytes.
request_lines = st.one_of(
    st.tuples(
        st.sampled_from([b"GET", b"HEAD", b"CONNECT", b"OPTIONS"]),
        st.lists(st.sampled_from([b"/", b"a", b"b", b"?", b"=", b"?", b"%2f", b"*", b"h:80", b"%zz", b"#"]), max_size=6)
        .map(b"".join)
        .map(lambda target: b"http://" + target if target[:1] == b"h" else b"/" + target),
        st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.1", b"HTTP/2.0"]),
    ).map(b" ".join),
    st.lists(st.sampled_from(REQUEST_LINE_PIECES), min_size=1, max_size=8).map(b"".join),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            request_lines,
            st.sampled_from([b"", b"Host: h\r\n", b"Host: h\r\nHost: i\r\n", b"Host: h\r\nGET / HTTP/1.1\r\n"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_remembered_request_lines_give_the_events_and_bytes_of_a_first_parse(
    requests: list[tuple[bytes, bytes]],
) -> None:
    heads = [line + b"\r\n" + fields + b"\r\n" for line, fields in requests]
    first_parses = [_exchange([head], None) for head in heads]
    expected = (
        [event for events, _ in first_parses for event in events] * 2,
        b"".join(answer for _, answer in first_parses) * 2,
    )
    assert _exchange(heads * 2, FieldLineCache(), RequestLineCache()) == expected


def test_the_cache_keeps_valid_lines_only_and_stays_bounded() -> None:
    cache = FieldLineCache()
    assert cache.parse(b"Host: example") == ("host", "example")
    assert cache[b"Host: example"] == ("host", "example")
    with pytest.raises(ProtocolError):
        cache.parse(b"Bad Name: x")
    assert b"Bad Name: x" not in cache
    long_line = b"X-Long: " + b"a" * FieldLineCache.MAX_LINE
    assert cache.parse(long_line) == parse_field_line(long_line)
    assert long_line not in cache
    for number in range(FieldLineCache.MAX_LINES + 10):
        cache.parse(b"X-N: %d" % number)
    assert 0 < len(cache) <= FieldLineCache.MAX_LINES


# A request as the prepared path can meet it: any method, either version, any persistence asked for,
# a body not read yet (small, large, chunked, or waiting for 100 Continue).
request_heads = st.builds(
    lambda method, version, connection, body: (
        f"{method} /f HTTP/{version}\r\nHost: h\r\n{connection}{body}\r\n".encode()
    ),
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS", "DELETE"]),
    st.sampled_from(["1.0", "1.1", "1.2"]),
    st.sampled_from(["", "Connection: close\r\n", "Connection: keep-alive\r\n", "Connection: keep-alive, close\r\n"]),
    st.sampled_from(
        [
            "",
            "Content-Length: 3\r\n",
            "Content-Length: 100000\r\n",
            "Transfer-Encoding: chunked\r\n",
            "Content-Length: 3\r\nExpect: 100-continue\r\n",
        ]
    ),
)
answers = st.tuples(
    st.sampled_from([200, 201, 204, 206, 301, 304, 400, 404, 405, 416, 500, 599]),
    st.lists(st.tuples(st.sampled_from(["Content-Type", "ETag", "X-A"]), st.text("ab ;=/", max_size=6)), max_size=3),
    st.binary(max_size=40),
)
# For each request: its head, whether its body arrives with it, how the server answers (close,
# reads_body), and which second the Date says.
sends = st.lists(
    st.tuples(request_heads, st.booleans(), st.booleans(), st.booleans(), st.sampled_from([b"D1", b"D2"])),
    min_size=1,
    max_size=8,
)


def _answered(
    head: bytes,
    body_arrived: bool,
    protocol: str,
    date: bytes,
    answer: tuple[int, list[tuple[str, str]], bytes],
    prepared: PreparedResponse | None,
    close: bool,
    reads_body: bool,
) -> tuple[object, ...]:
    """The bytes and the cycle's state after answering ``head``: with ``prepared`` when given, else
    with send_response and ``answer``."""
    connection = make_connection(protocol, date=date)
    connection.receive_data(head + (b"abc" if body_arrived and b"Content-Length: 3" in head else b""))
    try:
        connection.next_event()
    except ProtocolError as error:  # Transfer-Encoding in HTTP/1.0: no response of the handler's
        return ("refused", error.status)
    if connection.phase is Phase.RECEIVING_BODY and body_arrived:
        connection.next_event()
        connection.next_event()
    if prepared is not None:
        data = b"".join(connection.send_prepared(prepared, close=close, reads_body=reads_body))
    else:
        data = connection.send_response(*answer, close=close, reads_body=reads_body)
    return (
        data,
        connection.phase,
        connection.keep_alive,
        connection.response_started,
        connection.sends_body,
        connection.body_bytes,
        connection.next_event(),
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(answers, st.sampled_from(["HTTP/1.1", "HTTP/1.0"]), sends)
def test_a_prepared_response_sends_what_send_response_sends(
    answer: tuple[int, list[tuple[str, str]], bytes],
    protocol: str,
    requests: list[tuple[bytes, bool, bool, bool, bytes]],
) -> None:
    prepared = PreparedResponse(*answer)  # one for every request: its forms are made once and reused
    for head, body_arrived, close, reads_body, date in requests:
        sent = _answered(head, body_arrived, protocol, date, answer, None, close, reads_body)
        assert _answered(head, body_arrived, protocol, date, answer, prepared, close, reads_body) == sent


def test_a_prepared_response_refuses_what_send_response_refuses() -> None:
    with pytest.raises(ValueError):
        PreparedResponse(200, [("X-A", "a\r\nInjected: 1")])
    with pytest.raises(ValueError):
        PreparedResponse(1000, [])
    connection = make_connection()
    with pytest.raises(StateError):
        connection.send_prepared(PreparedResponse(200, [], b"x"))  # no request yet


def test_only_request_lines_are_remembered_as_request_lines() -> None:
    # A field line of an earlier head, sent as a request line, is still no request.
    events, _ = _exchange(
        [b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", b"Host: h\r\n\r\n"], FieldLineCache(), RequestLineCache()
    )
    assert events[0][0] == "request"
    assert events[1:] == [("error", 400)]


HEAD_FIELDS = [
    *(b"Host: h", b"Host: i", b"Host: h:80", b"Accept: */*", b"X-A: a", b"Bad Name: x", b"X-B: \x01"),
    *(b"Connection: close", b"Connection: keep-alive", b"Content-Length: 0", b"Content-Length: 3"),
    *(b"Transfer-Encoding: chunked", b"Expect: 100-continue", b"Host:"),
]
# Whole heads: a request line (mostly well-formed) and field lines, the plain ones and the ones that
# change framing or persistence among them.
whole_heads = st.tuples(request_lines, st.lists(st.sampled_from(HEAD_FIELDS), max_size=4)).map(
    lambda parts: parts[0] + b"\r\n" + b"".join(field + b"\r\n" for field in parts[1]) + b"\r\n"
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(whole_heads, min_size=1, max_size=4))
def test_remembered_heads_give_the_events_and_bytes_of_a_first_parse(heads: list[bytes]) -> None:
    first_parses = [_exchange([head], None) for head in heads]
    expected = (
        [event for events, _ in first_parses for event in events] * 2,
        b"".join(answer for _, answer in first_parses) * 2,
    )
    assert _exchange(heads * 2, None, None, HeadCache()) == expected


def test_the_head_cache_keeps_valid_heads_only_and_stays_bounded() -> None:
    heads = HeadCache()
    plain = b"GET /a?b HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"
    events, _ = _exchange([plain], None, None, heads)
    fields = [("host", "h"), ("accept", "*/*")]
    assert heads[plain] == ("GET", "/a?b", "/a", "b", "HTTP/1.1", fields, "h", None, False, True, False)
    # The request each gets is its own: a handler changing its fields changes no later request.
    connection = make_connection(heads=heads)
    connection.receive_data(plain)
    first = connection.next_event()
    assert isinstance(first, Request)
    first.headers.append(("x-added", "1"))
    assert _exchange([plain], None, None, heads)[0] == events
    framed = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"
    refused = b"GET / HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n"
    _exchange([framed, refused], None, None, heads)
    assert heads[framed][-4:] == (3, False, False, False) and refused not in heads
    for number in range(HeadCache.MAX_LINES + 10):
        _exchange([b"GET /%d HTTP/1.1\r\nHost: h\r\n\r\n" % number], None, None, heads)
    assert 0 < len(heads) <= HeadCache.MAX_LINES


# Reads as they come: one whole head (the usual read), one after an empty line, two heads, part of
# one, a head with its body, or any bytes.
reads = st.one_of(
    whole_heads,
    whole_heads,
    whole_heads.map(lambda head: b"\r\n" + head),
    st.tuples(whole_heads, whole_heads).map(b"".join),
    whole_heads.map(lambda head: head[:-1]),
    whole_heads.map(lambda head: head + b"abc"),
    st.binary(min_size=1, max_size=30),
)


def _served(reads: list[bytes], whole: bool) -> list[Normalized]:
    """Feed ``reads`` in turn, each through whole_request first when ``whole``; after each, what the
    connection gave (events, answers, an error) and its state."""
    connection = make_connection(heads=HeadCache())
    log: list[Normalized] = []
    for data in reads:
        events: list[Normalized] = []
        responses: list[bytes] = []
        try:
            request = connection.whole_request(data) if whole else None
            if request is None:
                connection.receive_data(data)
            else:
                events.append(describe(request))
            going = drain(connection, events, responses)
        except ProtocolError as error:
            events.append(("error", error.status))
            going = False
        log.append((events, responses, connection.phase, connection.buffered, connection.keep_alive))
        if not going:
            break
    return log


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(reads, min_size=1, max_size=5))
def test_a_read_that_is_one_whole_head_is_taken_as_receive_data_and_next_event_take_it(reads: list[bytes]) -> None:
    assert _served(reads, whole=True) == _served(reads, whole=False)


def test_only_a_read_that_is_exactly_one_head_between_requests_is_taken_whole() -> None:
    head = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
    for data in (b"\r\n" + head, head + head, head[:-1], head + b"x", b"\r\n\r\n", b"GET"):
        connection = make_connection()
        assert connection.whole_request(data) is None
        assert (connection.phase, connection.buffered, connection.request) == (Phase.IDLE, 0, None)
    connection = make_connection()
    connection.receive_data(b"G")
    assert connection.whole_request(head) is None  # bytes already buffered come first
    connection = make_connection()
    request = connection.whole_request(head)
    assert request is not None and connection.request is request and connection.phase is Phase.HANDLING
    assert connection.whole_request(head) is None  # one request at a time, as next_event


def _answered_whole(
    head: bytes, body_arrived: bool, protocol: str, date: bytes, prepared: PreparedResponse, at_once: bool
) -> tuple[object, ...]:
    """The bytes and the cycle's state after answering ``head`` with ``prepared``: at once when
    ``at_once`` (which every request whose body is in takes; (None,) for one whose body is still
    arriving), else with send_prepared and, when the cycle is done, start_next_cycle."""
    connection = make_connection(protocol, date=date)
    connection.receive_data(head + (b"abc" if body_arrived and b"Content-Length: 3" in head else b""))
    try:
        connection.next_event()
    except ProtocolError as error:
        return ("refused", error.status)
    if connection.phase is Phase.RECEIVING_BODY and body_arrived:
        connection.next_event()
        connection.next_event()
    before = _cycle(connection)
    answer = connection.send_prepared_at_once(prepared) if at_once else None
    if at_once and before[0] is not Phase.HANDLING:  # a body still arriving: the long way only
        assert answer is None and _cycle(connection) == before
        return (None,)
    if answer is None:
        assert not at_once
        answer = connection.send_prepared(prepared)
        if connection.phase is Phase.DONE:
            connection.start_next_cycle()
    return (b"".join(answer), *_cycle(connection), connection.next_event())


def _cycle(connection: ServerConnection) -> tuple[object, ...]:
    return (
        connection.phase,
        connection.request and describe(connection.request),
        connection.keep_alive,
        connection.response_started,
        connection.sends_body,
        connection.body_bytes,
        connection.buffered,
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(answers, st.sampled_from(["HTTP/1.1", "HTTP/1.0"]), sends)
def test_sending_at_once_sends_what_send_prepared_and_start_next_cycle_send(
    answer: tuple[int, list[tuple[str, str]], bytes],
    protocol: str,
    requests: list[tuple[bytes, bool, bool, bool, bytes]],
) -> None:
    prepared = PreparedResponse(*answer)
    for head, body_arrived, _close, _reads_body, date in requests:
        sent = _answered_whole(head, body_arrived, protocol, date, prepared, at_once=False)
        at_once = _answered_whole(head, body_arrived, protocol, date, prepared, at_once=True)
        if at_once != (None,):
            assert at_once == sent
