"""The sans-IO ServerConnection's response side: the one keep-alive decision, framing of bodies and
file ranges, error responses, and the phase table it enforces. Bytes in, bytes out, no sockets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reactor.http.errors import ProtocolError, StateError
from reactor.http.events import PAUSED, Data, EndOfMessage, Request
from reactor.http.serverconnection import ServerConnection
from reactor.http.state import Phase
from reactor.http.writer import PreparedResponse, encode_fields, error_page
from tests.http.helpers import all_feeds, exchange, make_connection

TEXT = [("Content-Type", "text/plain")]


def received(data: bytes, protocol: str = "HTTP/1.1", **limits: int) -> ServerConnection:
    """A connection fed ``data``, its events taken up to the point a response is owed."""
    connection = make_connection(protocol, limits=limits)
    connection.receive_data(data)
    while True:
        event = connection.next_event()
        if not isinstance(event, (Request, Data)):
            return connection


# (request bytes, how the server answers, whether the connection persists)
KEEP_ALIVE_CASES = [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", {}, True),
    (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {}, False),
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", {"close": True}, False),
    (b"GET / HTTP/1.0\r\n\r\n", {}, False),
    (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", {}, True),
    # HTTP/1.0 cannot be sent chunked: a body of unknown length ends with the connection.
    (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", {"content_length": None}, False),
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", {"content_length": None}, True),  # chunked
    # An unread body: drained when small and of known length, else the connection closes.
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", {}, True),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", {}, False),
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", {}, False),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", {"reads_body": True}, True),
    # A client waiting for 100 (Continue) that it never got may or may not send its body now.
    (b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", {}, False),
]


@pytest.mark.parametrize(("request_bytes", "answer", "persists"), KEEP_ALIVE_CASES)
def test_whether_the_connection_persists(request_bytes: bytes, answer: dict[str, object], persists: bool) -> None:
    connection = received(request_bytes, max_body=1 << 20)
    options = dict(answer)  # the case's own dict is shared by every run of this test
    length = options.pop("content_length", 2)
    head = connection.start_response(200, TEXT, length, **options)  # type: ignore[arg-type]
    assert connection.keep_alive is persists
    # The head says so: a 1.1 client is told of a close, a 1.0 client of a keep-alive.
    if request_bytes.split(b"\r\n")[0].endswith(b"HTTP/1.1"):
        assert (b"Connection: close\r\n" in head) is not persists
    else:
        assert (b"Connection: keep-alive\r\n" in head) is persists
    assert connection.phase in (Phase.SENDING_RESPONSE, Phase.SENDING_AND_RECEIVING)


@pytest.mark.parametrize("arrived", [0.0, 0.5, 1.0])
@pytest.mark.parametrize(("length", "persists"), [(100, True), (100_000, False)])
def test_an_unread_body_is_drained_by_its_declared_size_however_much_of_it_has_arrived(
    arrived: float, length: int, persists: bool
) -> None:
    """Found by the simulation (seeds 40, 134): answered before its body was in, a POST to a file
    kept or closed the connection depending on how much of the body TCP had delivered."""
    connection = make_connection()  # max_discard 64 KiB
    head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
    connection.receive_data(head + b"x" * int(length * arrived))
    assert isinstance(connection.next_event(), Request)
    response = connection.start_response(404, TEXT, 2)
    assert connection.keep_alive is persists
    assert (b"Connection: close\r\n" in response) is not persists


def test_a_response_that_does_not_persist_ends_the_cycle_in_must_close() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    connection.send_response(200, TEXT, b"ok")
    assert connection.phase is Phase.MUST_CLOSE
    with pytest.raises(StateError):
        connection.start_next_cycle()


def test_a_persistent_cycle_starts_the_next_one_only_after_both_halves() -> None:
    connection = make_connection()
    connection.receive_data(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
    assert isinstance(connection.next_event(), Request)
    assert connection.next_event() == Data(b"ab")
    connection.send_response(200, TEXT, b"ok", reads_body=True)
    assert connection.phase is Phase.DRAINING_BODY
    with pytest.raises(StateError, match="draining"):
        connection.start_next_cycle()
    connection.receive_data(b"cd")
    assert connection.next_event() == Data(b"cd")
    assert isinstance(connection.next_event(), EndOfMessage)
    assert connection.phase is Phase.DONE
    connection.start_next_cycle()
    assert connection.phase is Phase.IDLE


def test_an_illegal_transition_says_which_phase_refused_it() -> None:
    connection = make_connection()
    with pytest.raises(StateError, match="'idle'"):
        connection.start_response(200, TEXT, 2)
    with pytest.raises(StateError, match="'idle'"):
        connection.start_next_cycle()
    with pytest.raises(StateError):
        connection.end_response()


def test_a_second_response_to_one_request_is_refused() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    connection.start_response(200, TEXT, 0)
    with pytest.raises(StateError):
        connection.start_response(200, TEXT, 0)


def test_a_bad_field_is_refused_before_anything_changes() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(ValueError):
        connection.start_response(200, [("X-Bad", "a\r\nInjected: yes")], 0)
    assert connection.phase is Phase.HANDLING and not connection.response_started
    assert connection.send_response(200, TEXT, b"ok").startswith(b"HTTP/1.1 200 OK\r\n")


def test_chunked_framing_of_a_streamed_body() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = connection.start_response(200, TEXT)
    assert b"Transfer-Encoding: chunked\r\n" in head
    assert connection.send_data(b"hello") == b"5\r\nhello\r\n"
    assert connection.send_data(b"") == b""  # an empty chunk would end the body
    assert connection.end_response() == b"0\r\n\r\n"
    assert connection.body_bytes == 5 and connection.phase is Phase.DONE


def test_a_file_range_gets_its_chunk_framing_around_it() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    connection.start_response(200, TEXT)
    assert connection.send_file(300) == (b"12c\r\n", b"\r\n")
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    connection.start_response(200, TEXT, 300)
    assert connection.send_file(300) == (b"", b"")


def test_a_body_past_its_content_length_is_refused() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    connection.start_response(200, TEXT, 3)
    with pytest.raises(StateError):
        connection.send_data(b"four")


def test_a_body_shorter_than_its_content_length_cannot_end() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    connection.start_response(200, TEXT, 3)
    connection.send_data(b"ab")
    with pytest.raises(StateError):
        connection.end_response()


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 200),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 204),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 304),
    ],
)
def test_responses_without_a_body_send_none(request_bytes: bytes, status: int) -> None:
    connection = received(request_bytes)
    data = connection.send_response(status, TEXT, b"ignored")
    assert data.endswith(b"\r\n\r\n") and b"ignored" not in data
    assert not connection.sends_body and connection.keep_alive


def test_the_error_response_closes_and_drops_what_is_buffered() -> None:
    connection = make_connection()
    connection.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\n")
    assert isinstance(connection.next_event(), Request)
    data = connection.send_error(503, "busy")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"\r\nConnection: close" in head and b"\r\nContent-Type: text/html" in head
    assert f"Content-Length: {len(body)}".encode() in head and b"busy" in body
    assert connection.phase is Phase.MUST_CLOSE and connection.buffered == 0


def test_an_error_response_after_a_parse_error_is_one_transition() -> None:
    moves: list[tuple[Phase, Phase]] = []
    connection = make_connection()
    connection.observer = lambda old, new, transition: moves.append((old, new))
    connection.receive_data(b"GET / HTTP/9.9\r\n\r\n")
    with pytest.raises(ProtocolError) as raised:
        connection.next_event()
    data = connection.send_error(raised.value.status, raised.value.reason)
    assert data.startswith(b"HTTP/1.1 505 ")
    assert moves == [(Phase.IDLE, Phase.MUST_CLOSE)]


CHUNKED_POST = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


def _early_response(connection: ServerConnection) -> None:
    connection.start_response(200, TEXT, 2)


def _early_whole_response(connection: ServerConnection) -> None:
    connection.start_response(200, TEXT, 2)
    connection.send_data(b"ok")
    connection.end_response()


@pytest.mark.parametrize(
    ("data", "answer", "phase"),
    [
        (CHUNKED_POST, None, Phase.RECEIVING_BODY),
        (CHUNKED_POST, _early_response, Phase.SENDING_AND_RECEIVING),  # a 413 before the body is in
        (CHUNKED_POST, _early_whole_response, Phase.DRAINING_BODY),
    ],
)
def test_a_body_that_breaks_framing_ends_the_connection_in_every_phase_it_is_read(
    data: bytes, answer: object, phase: Phase
) -> None:
    # Past a framing error nothing that follows can be trusted to start a request (smuggling): the
    # connection must close, whether or not its response has begun.
    connection = received(data)
    if callable(answer):
        answer(connection)
    assert connection.phase is phase
    connection.receive_data(b"zz\r\n")
    with pytest.raises(ProtocolError):
        connection.next_event()
    assert connection.phase is Phase.MUST_CLOSE
    connection.receive_data(b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    assert connection.next_event() is PAUSED, "nothing more is parsed"


@pytest.mark.parametrize(
    ("data", "phase"),
    [
        (b"", Phase.IDLE),  # a head that never came: 408
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", Phase.HANDLING),  # a handler that failed: 500
        (CHUNKED_POST, Phase.RECEIVING_BODY),  # a body that stopped coming: 408
    ],
)
def test_the_servers_own_error_ends_the_connection_from_every_phase_before_a_response(
    data: bytes, phase: Phase
) -> None:
    connection = received(data) if data else make_connection()
    assert connection.phase is phase
    assert connection.send_error(500, "gave up").startswith(b"HTTP/1.1 500 ")
    assert connection.phase is Phase.MUST_CLOSE and not connection.keep_alive


def test_no_error_response_once_a_response_has_started() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    connection.start_response(200, TEXT, 10)
    with pytest.raises(StateError, match=r"^the response was already started$"):
        connection.send_error(500, "too late")


def test_100_continue_is_owed_once_and_only_before_a_response() -> None:
    connection = received(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
    assert connection.send_continue() == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert connection.send_continue() == b""
    assert received(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n").send_continue() == b""


# Speaking HTTP/1.0 (-p HTTP/1.0): (request bytes, content length, whether the connection persists)
HTTP10_CASES = [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 2, False),  # a 1.1 client that did not ask
    (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", 2, True),
    (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, close\r\n\r\n", 2, False),
    (b"GET / HTTP/1.0\r\n\r\n", 2, False),
    (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 2, True),
    # No chunked coding in HTTP/1.0: a body of unknown length ends with the connection.
    (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", None, False),
]


@pytest.mark.parametrize(("request_bytes", "length", "persists"), HTTP10_CASES)
def test_a_server_speaking_http10_answers_as_http10_and_keeps_only_asked_connections(
    request_bytes: bytes, length: int | None, persists: bool
) -> None:
    connection = received(request_bytes, "HTTP/1.0")
    head = connection.start_response(200, TEXT, length)
    assert head.startswith(b"HTTP/1.0 200 OK\r\n")
    assert b"Transfer-Encoding" not in head
    assert connection.keep_alive is persists
    assert (b"Connection: keep-alive\r\n" in head) is persists
    assert (b"Connection: close\r\n" in head) is not persists


def test_a_server_speaking_http10_sends_no_100_continue_and_its_errors_say_http10() -> None:
    connection = received(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n", "HTTP/1.0")
    assert connection.send_continue() == b""
    assert connection.send_error(404, "not found").startswith(b"HTTP/1.0 404 Not Found\r\n")
    with pytest.raises(ValueError, match="unsupported protocol"):
        make_connection("HTTP/2")


def test_shutdown_closes_after_the_response_in_progress() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    connection.close_after_response()
    data = connection.send_response(200, TEXT, b"ok")
    assert b"Connection: close\r\n" in data and connection.phase is Phase.MUST_CLOSE


def test_pipelined_requests_wait_for_their_turn() -> None:
    connection = make_connection()
    connection.receive_data(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
    first = connection.next_event()
    assert isinstance(first, Request) and first.path == "/1"
    assert connection.next_event() is PAUSED
    connection.send_response(200, TEXT, b"1")
    connection.start_next_cycle()
    second = connection.next_event()
    assert isinstance(second, Request) and second.path == "/2"


PIPELINE = (
    b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
    b"GET /d HTTP/1.0\r\n\r\n"
)


def test_responses_are_the_same_however_the_requests_arrive() -> None:
    events = all_feeds(PIPELINE)
    assert [event[2] for event in events if event[0] == "request"] == ["/a", "/b", "/c", "/d"]
    responses = exchange([PIPELINE])[1]
    assert responses.count(b"HTTP/1.1 200 OK\r\n") == 4
    assert responses.endswith(b"Connection: close\r\n\r\nok")  # the 1.0 request ends the connection


def test_an_error_response_is_the_same_however_the_bytes_arrive() -> None:
    data = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"
    events = all_feeds(data)
    assert events[-1] == ("error", 400)
    assert exchange([data])[1].count(b"HTTP/1.1 ") == 2


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=40))
def test_any_bytes_give_the_same_responses_whole_or_in_pieces(data: bytes, size: int) -> None:
    """Whatever arrives, and however it is cut, the connection answers with the same bytes."""
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + data
    pieces = [request[i : i + size] for i in range(0, len(request), size)]
    assert exchange(pieces) == exchange([request])


def test_a_response_head_takes_fields_encoded_once() -> None:
    # A handler that sends the same fields on every response encodes them once (writer.FieldBlock).
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = connection.start_response(200, encode_fields(TEXT), 2)
    assert b"\r\nContent-Type: text/plain\r\n" in head


def test_a_streamed_response_to_head_sends_its_head_only() -> None:
    connection = received(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"Content-Length: 5\r\n" in connection.start_response(200, TEXT, 5)
    assert connection.send_data(b"hello") == b""
    assert connection.end_response() == b""
    assert connection.body_bytes == 5 and connection.phase is Phase.DONE


def test_a_prepared_response_by_default_persists_and_does_not_read_the_body() -> None:
    answer = PreparedResponse(200, TEXT, b"ok")
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    connection.send_prepared(answer)
    assert connection.keep_alive
    connection = received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
    connection.send_prepared(answer)
    assert not connection.keep_alive, "a large body nobody reads is not drained: the connection closes"


def test_each_cycle_owes_its_own_100_continue() -> None:
    request = b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    connection = received(request)
    for _ in range(2):
        assert connection.send_continue() == b"HTTP/1.1 100 Continue\r\n\r\n"
        connection.receive_data(b"ok")
        assert isinstance(connection.next_event(), Data) and isinstance(connection.next_event(), EndOfMessage)
        connection.send_response(204, [], b"")
        connection.start_next_cycle()
        connection.receive_data(request)
        assert isinstance(connection.next_event(), Request)


def test_misuse_of_the_response_calls_says_what_was_wrong() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(StateError, match=r"^start_response\(\) must come first$"):
        connection.send_data(b"x")
    connection.start_response(200, TEXT, 4)
    with pytest.raises(StateError, match="no response can start in phase 'sending response'"):
        connection.send_prepared(PreparedResponse(200, TEXT))
    with pytest.raises(StateError, match=r"^response body longer than its Content-Length$"):
        connection.send_file(5)
    connection.send_file(1)
    connection.send_file(1)
    assert connection.body_bytes == 2
    with pytest.raises(StateError, match="response ended 2 bytes short of its Content-Length"):
        connection.end_response()


def test_a_prepared_response_without_a_body_has_an_empty_one() -> None:
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, body = connection.send_prepared(PreparedResponse(204, []))
    assert body == b"" and head.endswith(b"\r\n\r\n")
    connection = received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, body = connection.send_prepared(PreparedResponse(200, []))
    assert body == b"" and b"Content-Length: 0\r\n" in head


def test_after_the_servers_own_error_nothing_more_is_sent_and_the_connection_ends() -> None:
    connection = received(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = connection.send_error(503, "busy")
    assert answer.endswith(b"\r\n\r\n"), "no body after HEAD"
    assert f"Content-Length: {len(error_page(503, 'busy'))}\r\n".encode() in answer
    assert not connection.keep_alive
    with pytest.raises(StateError, match="the response was already started"):
        connection.send_error(500, "again")
    connection = make_connection()
    connection.receive_data(b"\x16\x03\x01")
    with pytest.raises(ProtocolError):
        connection.next_event()
    page = connection.send_error(400, "not an HTTP request").partition(b"\r\n\r\n")[2]
    assert page == error_page(400, "not an HTTP request") and b"<title>400 Bad Request</title>" in page


def test_a_whole_response_is_sent_once_and_by_default_does_not_read_the_body() -> None:
    connection = received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
    connection.send_response(200, TEXT, b"ok")
    assert not connection.keep_alive, "a large body nobody reads is not drained: the connection closes"
    with pytest.raises(StateError, match="no response can start in phase"):
        connection.send_response(200, TEXT, b"again")


def test_a_connection_speaks_http_1_1_unless_told_otherwise() -> None:
    connection = ServerConnection(
        max_request_line=8192, max_head=32768, max_headers=100, max_body=1000, max_discard=1000, date=lambda: b"d"
    )
    connection.receive_data(b"GET / HTTP/1.0\r\n\r\n")
    connection.next_event()
    assert connection.send_response(200, [], b"").startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize(("length", "persists"), [(64 * 1024, True), (64 * 1024 + 1, False)])
def test_an_unread_body_is_drained_up_to_max_discard(length: int, persists: bool) -> None:
    # make_connection's max_discard is 64 KiB: a body that size is read and dropped, a larger one closes.
    connection = received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % length)
    connection.start_response(200, TEXT, 2)
    assert connection.keep_alive is persists


def test_a_connection_speaks_only_the_versions_it_knows() -> None:
    with pytest.raises(ValueError, match=r"unsupported protocol 'HTTP/2': want one of HTTP/1\.1, HTTP/1\.0"):
        make_connection("HTTP/2")
