"""The sans-IO client connection a proxy speaks to its backend: requests framed by us, responses fed
whole, byte by byte and split at every index, with the same events every time."""

from __future__ import annotations

import pytest

from reactor.http.client import ClientConnection, ResponseHead
from reactor.http.errors import ProtocolError, StateError
from reactor.http.events import NEED_DATA, PAUSED, PEER_CLOSED, Data, EndOfMessage
from tests.http.client_helpers import all_feeds, make_client

OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"


def head_of(events: list[tuple[object, ...]]) -> tuple[object, ...]:
    return next(event for event in events if event[0] == "head")


# -- requests -------------------------------------------------------------------------------------


def test_a_request_head_is_the_line_rebuilt_the_fields_and_our_framing() -> None:
    connection = ClientConnection(max_head=32768, max_headers=100)
    head = connection.send_request("POST", "/api/x?y=1", [("Host", "h"), ("X-A", "b")], 11)
    assert head == b"POST /api/x?y=1 HTTP/1.1\r\nHost: h\r\nX-A: b\r\nContent-Length: 11\r\n\r\n"
    assert connection.send_data(b"hello ") == b"hello "
    assert connection.send_data(b"world") == b"world"
    assert not connection.request_complete
    assert connection.end_request() == b""
    assert connection.request_complete


def test_a_chunked_request_body_is_coded_by_us() -> None:
    connection = ClientConnection(max_head=32768, max_headers=100)
    head = connection.send_request("PUT", "/f", [("Host", "h")], chunked=True)
    assert head.endswith(b"Transfer-Encoding: chunked\r\n\r\n")
    assert connection.send_data(b"") == b""
    assert connection.send_data(b"hello") == b"5\r\nhello\r\n"
    assert connection.send_data(b"x" * 17) == b"11\r\n" + b"x" * 17 + b"\r\n"
    assert connection.end_request() == b"0\r\n\r\n"


def test_a_bodiless_request_is_complete_with_its_head() -> None:
    connection = make_client("GET")
    assert connection.request_complete
    with pytest.raises(StateError):
        connection.send_data(b"x")


def test_a_request_body_must_keep_to_its_content_length() -> None:
    connection = ClientConnection(max_head=32768, max_headers=100)
    connection.send_request("POST", "/", [("Host", "h")], 3)
    with pytest.raises(StateError, match="longer"):
        connection.send_data(b"four")
    connection.send_data(b"ab")
    with pytest.raises(StateError, match="1 bytes short"):
        connection.end_request()


def test_a_field_that_could_split_the_request_is_refused() -> None:
    connection = ClientConnection(max_head=32768, max_headers=100)
    with pytest.raises(ValueError):
        connection.send_request("GET", "/", [("X-A", "b\r\nX-Injected: 1")])


def test_one_request_at_a_time() -> None:
    connection = make_client()
    with pytest.raises(StateError):
        connection.send_request("GET", "/", [("Host", "h")])


# -- response framing (RFC 9112 6.3) ---------------------------------------------------------------


def test_a_body_framed_by_content_length() -> None:
    events = all_feeds(OK_HEAD + b"hello")
    assert events == [
        ("head", 200, "HTTP/1.1", (("content-type", "text/plain"), ("content-length", "5")), 5, False),
        ("data", b"hello"),
        ("end",),
        ("signal", PAUSED),
        ("reusable", True),
    ]


def test_a_chunked_body_with_extensions_and_trailers() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\nhello\r\n6;ext="a b"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n'
    )
    events = all_feeds(data)
    assert head_of(events)[4:] == (None, True)
    assert events[1:] == [("data", b"hello world"), ("end",), ("signal", PAUSED), ("reusable", True)]


def test_a_body_without_length_ends_with_the_connection_which_is_then_not_reused() -> None:
    events = all_feeds(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", eof=True)
    assert events[1:] == [("data", b"all of it"), ("end",), ("signal", PAUSED), ("reusable", False)]


@pytest.mark.parametrize(
    ("method", "head"),
    [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
        ("HEAD", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
        ("GET", b'HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\nETag: "x"\r\n\r\n'),
    ],
)
def test_no_body_after_head_204_and_304_whatever_the_fields_say(method: str, head: bytes) -> None:
    events = all_feeds(head, method)
    assert [event[0] for event in events] == ["head", "end", "signal", "reusable"]
    assert events[-1] == ("reusable", True)


def test_interim_responses_come_before_the_final_one() -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + OK_HEAD + b"hello"
    events = all_feeds(data)
    assert [event[1] for event in events if event[0] == "head"] == [100, 103, 200]
    assert events[-2:] == [("signal", PAUSED), ("reusable", True)]


def test_a_101_to_an_upgrade_switches_and_hands_over_what_follows() -> None:
    data = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi"
    events = all_feeds(data, upgrade=True)
    assert events == [
        ("head", 101, "HTTP/1.1", (("connection", "Upgrade"), ("upgrade", "websocket")), None, False),
        ("signal", PAUSED),
        ("reusable", False),
    ]
    connection = make_client(upgrade=True)
    connection.receive_data(data)
    assert isinstance(connection.next_event(), ResponseHead)
    assert connection.switched
    assert connection.take_buffer() == b"\x81\x02hi"
    assert connection.take_buffer() == b""


def test_a_101_nobody_asked_for_is_a_bad_gateway() -> None:
    assert all_feeds(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n") == [("error", 502)]


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
    ],
)
def test_a_connection_the_backend_closes_or_may_close_is_not_reused(head: bytes) -> None:
    assert all_feeds(head)[-1] == ("reusable", False)


def test_bytes_after_the_response_make_the_connection_unusable() -> None:
    assert all_feeds(OK_HEAD + b"hello" + b"HTTP/1.1 200 OK\r\n")[-1] == ("reusable", False)


def test_status_lines_with_an_empty_or_no_reason_and_a_higher_minor_version() -> None:
    for line in (b"HTTP/1.1 200 \r\n", b"HTTP/1.1 200\r\n", b"HTTP/1.1 599 Whatever It Says\r\n"):
        events = all_feeds(line + b"Content-Length: 0\r\n\r\n")
        assert events[0][1] in (200, 599)
    assert all_feeds(b"HTTP/1.7 200 OK\r\nContent-Length: 0\r\n\r\n")[0][2] == "HTTP/1.1"


def test_repeated_equal_content_lengths_are_one() -> None:
    events = all_feeds(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nab")
    assert head_of(events)[4] == 2
    assert ("data", b"ab") in events


# -- what a proxy cannot pass on: 502 ----------------------------------------------------------------

BAD_RESPONSES = [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 1_0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
    b"HTTP/2.0 200 OK\r\n\r\n",
    b"HTTP/1.1 099 Low\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1  200 OK\r\n\r\n",
    b"http/1.1 200 OK\r\n\r\n",
    b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
    b"HTTP/1.1 200 OK\r\nX-A: b\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-A: b\rc\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX-A: \x00\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
]


@pytest.mark.parametrize("data", BAD_RESPONSES)
def test_a_response_a_proxy_cannot_pass_on_safely_is_a_502_in_any_cutting(data: bytes) -> None:
    assert all_feeds(data)[-1] == ("error", 502)


def test_a_head_too_large_or_with_too_many_fields() -> None:
    connection = make_client(max_head=64)
    connection.receive_data(b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 100)
    with pytest.raises(ProtocolError, match="too large"):
        connection.next_event()
    connection = make_client()
    connection.receive_data(b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 101 + b"\r\n")
    with pytest.raises(ProtocolError, match="too many"):
        connection.next_event()


def test_a_bare_lf_is_refused_as_soon_as_it_arrives() -> None:
    connection = make_client()
    connection.receive_data(b"HTTP/1.1 200 OK\r\nX-A: b\nContent-")
    with pytest.raises(ProtocolError, match="bare CR or LF") as raised:
        connection.next_event()
    assert raised.value.status == 502


def test_an_answer_that_is_not_http_is_refused_at_its_first_byte() -> None:
    connection = make_client()
    connection.receive_data(b"\x16")
    with pytest.raises(ProtocolError, match="not HTTP"):
        connection.next_event()


# -- the backend closing ----------------------------------------------------------------------------


def test_a_close_before_any_byte_of_the_response_is_peer_closed() -> None:
    assert all_feeds(b"", eof=True) == [("signal", PEER_CLOSED), ("reusable", False)]


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Le",
        OK_HEAD + b"hel",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
    ],
)
def test_a_close_inside_a_response_is_a_502(data: bytes) -> None:
    assert all_feeds(data, eof=True)[-1] == ("error", 502)


def test_bytes_between_requests_are_refused() -> None:
    connection = ClientConnection(max_head=32768, max_headers=100)
    assert connection.next_event() is NEED_DATA
    connection.receive_data(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ProtocolError, match="before any request"):
        connection.next_event()


# -- the cycle ---------------------------------------------------------------------------------------


def test_a_reusable_connection_carries_the_next_request() -> None:
    connection = make_client()
    assert not connection.received
    connection.receive_data(OK_HEAD)
    assert isinstance(connection.next_event(), ResponseHead)
    assert connection.received
    connection.receive_data(b"hello")
    assert connection.next_event() == Data(b"hello")
    assert connection.next_event() == EndOfMessage()
    assert connection.next_event() is PAUSED
    connection.start_next_cycle()
    assert not connection.received
    connection.send_request("HEAD", "/again", [("Host", "h")])
    connection.receive_data(OK_HEAD)
    head = connection.next_event()
    assert isinstance(head, ResponseHead) and head.content_length == 5
    assert connection.next_event() == EndOfMessage()


def test_a_connection_is_not_reused_before_its_request_is_complete() -> None:
    connection = ClientConnection(max_head=32768, max_headers=100)
    connection.send_request("POST", "/", [("Host", "h")], 10)
    connection.receive_data(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n")
    assert isinstance(connection.next_event(), ResponseHead)
    assert connection.next_event() == EndOfMessage()
    assert connection.response_complete and not connection.reusable
    with pytest.raises(StateError):
        connection.start_next_cycle()


def test_a_body_already_in_whole_is_taken_with_its_head() -> None:
    connection = make_client()
    connection.receive_data(OK_HEAD + b"hello")
    assert isinstance(connection.next_event(), ResponseHead)
    assert connection.take_whole_body() == b"hello"
    assert connection.next_event() is PAUSED
    assert connection.reusable


@pytest.mark.parametrize(
    ("method", "data"),
    [
        ("GET", OK_HEAD + b"hel"),  # not all of it yet
        ("HEAD", OK_HEAD),  # no body at all
        ("GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        ("GET", b"HTTP/1.1 200 OK\r\n\r\nuntil the close"),
    ],
)
def test_otherwise_the_body_comes_as_events(method: str, data: bytes) -> None:
    connection = make_client(method)
    connection.receive_data(data)
    assert isinstance(connection.next_event(), ResponseHead)
    assert connection.take_whole_body() is None
    assert connection.next_event() is not PAUSED


# -- what each refusal and misuse says --------------------------------------------------------------

FRAMING_REFUSALS = [
    (b"Transfer-Encoding: chunked\r\nContent-Length: 5", "both Transfer-Encoding and Content-Length from the backend"),
    (b"Transfer-Encoding: gzip", "a transfer coding other than chunked from the backend"),
    (b"Content-Length: 5, 6", "conflicting Content-Length values from the backend"),
    (b"Content-Length: +5", "an invalid Content-Length from the backend"),
    # Digits and nothing else: no letter, no no-break space (0xA0, whitespace to Python's str.strip()).
    (b"Content-Length: 5X", "an invalid Content-Length from the backend"),
    (b"Content-Length: \xa05", "an invalid Content-Length from the backend"),
]


@pytest.mark.parametrize(("field", "reason"), FRAMING_REFUSALS)
def test_a_502_for_the_bodys_framing_says_why(field: bytes, reason: str) -> None:
    connection = make_client()
    connection.receive_data(b"HTTP/1.1 200 OK\r\n" + field + b"\r\n\r\n")
    assert reason_of(connection) == reason


def reason_of(connection: ClientConnection) -> str:
    with pytest.raises(ProtocolError) as raised:
        connection.next_event()
    assert raised.value.status == 502
    return raised.value.reason


def test_a_502_inside_the_body_says_why() -> None:
    connection = make_client()
    connection.receive_data(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert reason_of(connection) == "Transfer-Encoding in an HTTP/1.0 response from the backend"
    connection = make_client()
    connection.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    assert isinstance(connection.next_event(), ResponseHead)
    assert reason_of(connection) == "invalid chunk size line from the backend"
    connection = make_client()
    connection.receive_data(OK_HEAD + b"hel")
    connection.receive_data(b"")
    assert isinstance(connection.next_event(), ResponseHead)
    assert connection.next_event() == Data(b"hel")
    assert reason_of(connection) == "the backend closed the connection inside the response body"


def test_a_content_length_of_eighteen_digits_is_taken() -> None:
    events = all_feeds(b"HTTP/1.1 200 OK\r\nContent-Length: " + b"1" + b"0" * 17 + b"\r\n\r\n")
    assert head_of(events)[4] == 10**17


def test_body_calls_outside_a_request_body_say_so() -> None:
    connection = ClientConnection(max_head=32768, max_headers=100)
    assert repr(connection) == "<ClientConnection idle buffered=0>"
    with pytest.raises(StateError, match=r"^no request body is being sent$"):
        connection.send_data(b"x")
    with pytest.raises(StateError, match=r"^no request body is being sent$"):
        connection.end_request()
    connection.send_request("POST", "/", [("Host", "h")], 3)
    assert repr(connection) == "<ClientConnection POST buffered=0>"
    with pytest.raises(StateError, match=r"^request body longer than its Content-Length$"):
        connection.send_data(b"four")
    with pytest.raises(StateError, match=r"^this connection cannot carry another request$"):
        connection.start_next_cycle()


def test_a_whole_body_taken_leaves_what_follows_it() -> None:
    connection = make_client()
    connection.receive_data(OK_HEAD + b"hello" + b"extra")
    assert isinstance(connection.next_event(), ResponseHead)
    assert connection.take_whole_body() == b"hello"
    assert not connection.reusable, "the backend sent more than its response"


HEAD_REFUSALS = [
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "the backend's answer is not HTTP"),
    (b"HTTP/1.1 200 OK\r\nX-A: b\rc\r\n\r\n", "a bare CR or LF in the backend's response head"),
    (b"HTTP/1.1  200 OK\r\n\r\n", "a malformed status line from the backend"),
    (b"HTTP/2.0 200 OK\r\n\r\n", "the backend does not speak HTTP/1"),
    (b"HTTP/1.1 099 Low\r\n\r\n", "status 99 from the backend"),
    (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "invalid header name from the backend"),
    (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "the backend switched protocols without being asked to"),
]


@pytest.mark.parametrize(("data", "reason"), HEAD_REFUSALS)
def test_a_502_for_the_head_says_why(data: bytes, reason: str) -> None:
    connection = make_client()
    connection.receive_data(data)
    assert reason_of(connection) == reason


def test_a_head_of_exactly_the_limits_is_taken_and_one_byte_or_field_more_is_a_502() -> None:
    head = b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 38 + b"\r\n\r\n"
    assert len(head) == 64
    connection = make_client(max_head=64)
    connection.receive_data(head)
    assert isinstance(connection.next_event(), ResponseHead)
    connection = make_client(max_head=62)
    connection.receive_data(head[:-2])  # still arriving
    assert connection.next_event() is NEED_DATA
    for data in (head, head[:-2]):
        connection = make_client(max_head=len(data) - 1)
        connection.receive_data(data)
        assert reason_of(connection) == "the backend's response head is too large"
    fields = b"HTTP/1.1 204 No Content\r\n" + b"X-A: b\r\n" * 100 + b"\r\n"
    connection = make_client()  # max_headers=100
    connection.receive_data(fields)
    assert isinstance(connection.next_event(), ResponseHead)
    connection = make_client()
    connection.receive_data(fields.replace(b"\r\n\r\n", b"\r\nX-A: b\r\n\r\n"))
    assert reason_of(connection) == "too many header fields from the backend"


def test_between_requests_a_close_is_peer_closed_and_bytes_are_a_502() -> None:
    connection = ClientConnection(max_head=32768, max_headers=100)
    connection.receive_data(b"")
    assert connection.next_event() is PEER_CLOSED
    connection = ClientConnection(max_head=32768, max_headers=100)
    connection.receive_data(b"HTTP/1.1 200 OK\r\n")
    assert reason_of(connection) == "the backend sent bytes before any request"


def test_a_request_asks_for_no_upgrade_unless_told_and_one_at_a_time() -> None:
    connection = ClientConnection(max_head=32768, max_headers=100)
    connection.send_request("GET", "/", [("Host", "h")])
    with pytest.raises(StateError, match=r"^a request is already in flight on this connection$"):
        connection.send_request("GET", "/", [("Host", "h")])
    connection.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
    assert reason_of(connection) == "the backend switched protocols without being asked to"
