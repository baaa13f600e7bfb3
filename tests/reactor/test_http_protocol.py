"""The HTTP protocol (reactor/httpconnection.py) on a FakeTransport: no socket and no selector; the test
plays the peer and the transport, and reads what the protocol wrote and asked for."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from reactor.exchange import Exchange
from reactor.httpconnection import ConnectionConfig, HTTPConnection
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.iostate import IOState, Timeout
from reactor.testing import FakeClock, FakeTransport, tick

GET = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"


def hello(exchange: Exchange) -> None:
    exchange.respond(200, [("Content-Type", "text/plain")], b"hello " + exchange.request.path.encode())


class Peer:
    """An HTTP connection attached to a fake transport, with a fake clock for the loop."""

    def __init__(self, handler: Callable[[Exchange], None] = hello) -> None:
        self.loop = EventLoop(clock=FakeClock())
        self.transport = FakeTransport(self.loop)
        self.connection = HTTPConnection(ConnectionConfig(handler, Limits()))
        self.transport.attach(self.connection)

    def statuses(self) -> list[bytes]:
        """The status lines written since the last look."""
        return [line for line in self.transport.take().split(b"\r\n") if line.startswith(b"HTTP/1.")]


def test_a_request_is_answered_and_the_connection_waits_for_the_next_one() -> None:
    peer = Peer()
    assert peer.transport.read_timeout is Timeout.HEADER_TIMEOUT  # from the accept: the first head is bounded
    peer.transport.receive(GET)
    written = peer.transport.take()
    assert written.startswith(b"HTTP/1.1 200 OK\r\n") and written.endswith(b"\r\n\r\nhello /a")
    assert peer.transport.state is IOState.READING
    assert peer.transport.read_timeout is Timeout.KEEPALIVE_TIMEOUT
    assert peer.connection.requests == 1


def test_a_partial_head_is_bounded_by_the_header_timeout_and_answered_408() -> None:
    peer = Peer()
    peer.transport.receive(GET)
    peer.transport.take()
    peer.transport.receive(b"GET /b HTTP/1.1\r\n")
    assert peer.transport.read_timeout is Timeout.HEADER_TIMEOUT
    peer.transport.time_out()
    assert peer.statuses() == [b"HTTP/1.1 408 Request Timeout"]
    assert peer.transport.state is IOState.LINGERING, "the rest of the head may be on its way"
    peer.transport.receive(b"Host: x\r\n\r\n")  # dropped
    peer.transport.receive_eof()
    assert peer.transport.take() == b""
    assert peer.transport.state is IOState.CLOSED and peer.transport.close_reason == "request timeout"


def test_an_idle_keep_alive_connection_is_closed_without_an_answer() -> None:
    peer = Peer()
    peer.transport.receive(GET)
    peer.transport.take()
    peer.transport.time_out()
    assert peer.transport.take() == b""
    assert peer.transport.state is IOState.CLOSED and peer.transport.close_reason == "keep-alive timeout"


def test_pipelined_requests_in_one_read_are_answered_in_order() -> None:
    peer = Peer()
    peer.transport.receive(GET + GET.replace(b"/a", b"/b") + GET.replace(b"/a", b"/c"))
    written = peer.transport.take()
    assert [written.index(b"hello /" + name) for name in (b"a", b"b", b"c")] == sorted(
        written.index(b"hello /" + name) for name in (b"a", b"b", b"c")
    )
    assert written.count(b"HTTP/1.1 200 OK") == 3 and peer.connection.requests == 3


def test_a_later_answer_holds_the_next_request_until_it_is_sent() -> None:
    pending: list[Exchange] = []
    peer = Peer(pending.append)
    peer.transport.receive(GET + GET.replace(b"/a", b"/b"))
    assert len(pending) == 1  # the second request waits, unparsed, behind the first
    assert peer.transport.state is IOState.WAITING  # the handler owes the next move: no reading
    peer.loop.call_soon(hello, pending[0])
    tick(peer.loop)
    assert peer.statuses() == [b"HTTP/1.1 200 OK"]
    assert len(pending) == 2


def test_a_body_being_read_is_bounded_by_the_body_timeout() -> None:
    received: list[bytes] = []

    def reader(exchange: Exchange) -> None:
        exchange.read_body(received.append, lambda: exchange.respond(204))

    peer = Peer(reader)
    peer.transport.receive(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
    assert received == [b"12345"] and peer.transport.read_timeout is Timeout.BODY_TIMEOUT
    peer.transport.receive(b"67890")
    assert peer.statuses() == [b"HTTP/1.1 204 No Content"]
    assert peer.transport.read_timeout is Timeout.KEEPALIVE_TIMEOUT


def test_a_body_that_stops_coming_is_answered_408() -> None:
    peer = Peer(lambda exchange: exchange.read_body(lambda data: None, lambda: None))
    peer.transport.receive(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n123")
    peer.transport.time_out()
    assert peer.statuses() == [b"HTTP/1.1 408 Request Timeout"]


def test_100_continue_is_sent_when_the_handler_reads_the_body() -> None:
    peer = Peer(lambda exchange: exchange.read_body(lambda data: None, lambda: exchange.respond(204)))
    peer.transport.receive(b"PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
    assert peer.statuses() == [b"HTTP/1.1 100 Continue"]
    peer.transport.receive(b"ok")
    assert peer.statuses() == [b"HTTP/1.1 204 No Content"]


def test_no_100_continue_when_the_handler_answers_without_the_body() -> None:
    peer = Peer(lambda exchange: exchange.respond(405, [("Allow", "GET")]))
    peer.transport.receive(b"PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
    written = peer.transport.take()
    assert written.startswith(b"HTTP/1.1 405 ") and b"100 Continue" not in written
    assert b"Connection: close\r\n" in written  # the client may or may not send the body now
    assert peer.transport.closing


def test_a_handler_that_raises_gets_a_500_and_the_connection_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    def broken(exchange: Exchange) -> None:
        raise RuntimeError("bug")

    peer = Peer(broken)
    with caplog.at_level(logging.ERROR, logger="reactor"):
        peer.transport.receive(GET)
    assert peer.statuses() == [b"HTTP/1.1 500 Internal Server Error"]
    assert "handler failed" in caplog.text
    assert not peer.transport.closing and peer.transport.read_timeout is Timeout.KEEPALIVE_TIMEOUT


def test_a_handler_that_raises_after_starting_cuts_the_connection(caplog: pytest.LogCaptureFixture) -> None:
    def half(exchange: Exchange) -> None:
        exchange.start_response(200, [("Content-Type", "text/plain")], 10)
        exchange.write(b"12345")
        raise RuntimeError("bug")

    peer = Peer(half)
    with caplog.at_level(logging.ERROR, logger="reactor"):
        peer.transport.receive(GET)
    assert peer.statuses() == [b"HTTP/1.1 200 OK"]
    assert peer.transport.state is IOState.CLOSED and peer.transport.close_reason == "response aborted"


def test_a_malformed_request_is_answered_and_closed_with_a_lingering_close() -> None:
    peer = Peer()
    peer.transport.receive(b"GET /a HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
    assert peer.statuses() == [b"HTTP/1.1 400 Bad Request"]
    assert peer.transport.state is IOState.LINGERING and peer.transport.close_reason == "protocol error"


def test_the_peer_closing_between_requests_closes_the_connection() -> None:
    peer = Peer()
    peer.transport.receive(GET)
    peer.transport.take()
    peer.transport.receive_eof()
    assert peer.transport.take() == b""
    assert peer.transport.state is IOState.CLOSED and peer.transport.close_reason == "peer closed"


def test_shutdown_closes_an_idle_connection_at_once() -> None:
    peer = Peer()
    peer.transport.receive(GET)
    peer.connection.shutdown()
    assert peer.transport.state is IOState.CLOSED and peer.transport.close_reason == "shutdown"


def test_shutdown_lets_a_busy_connection_finish_its_response_first() -> None:
    pending: list[Exchange] = []
    peer = Peer(pending.append)
    peer.transport.receive(GET)
    peer.connection.shutdown()
    assert not peer.transport.closing
    hello(pending[0])
    written = peer.transport.take()
    assert written.startswith(b"HTTP/1.1 200 OK") and b"Connection: close\r\n" in written
    assert peer.transport.closing


def test_backpressure_stops_and_resumes_the_pipeline() -> None:
    peer = Peer()
    peer.transport.receive(GET)
    peer.transport.take()
    peer.connection.pause_writing()  # the transport's queue went above the high-water mark
    peer.transport.receive(GET.replace(b"/a", b"/b") + GET.replace(b"/a", b"/c"))
    assert peer.transport.take() == b""  # buffered, not handled
    peer.connection.resume_writing()
    written = peer.transport.take()
    assert written.count(b"HTTP/1.1 200 OK") == 2 and written.index(b"hello /b") < written.index(b"hello /c")


def test_http_1_0_without_keep_alive_closes_after_the_response() -> None:
    peer = Peer()
    peer.transport.receive(b"GET /a HTTP/1.0\r\n\r\n")
    assert peer.statuses() == [b"HTTP/1.1 200 OK"]
    assert peer.transport.closing


def test_a_lost_connection_tells_the_exchange() -> None:
    aborted: list[bool] = []
    peer = Peer(lambda exchange: exchange.on_abort(lambda: aborted.append(True)))
    peer.transport.receive(GET)
    peer.transport.abort("peer reset")
    assert aborted == [True]


def test_each_response_that_ends_is_counted_by_method_and_status_class() -> None:
    def answer(exchange: Exchange) -> None:
        status = {"/a": 200, "/missing": 404, "/broken": 503, "/odd": 799}[exchange.request.path]
        exchange.respond(status, [("Content-Type", "text/plain")], b"")

    peer = Peer(answer)
    peer.transport.receive(GET + b"HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\n" + GET + GET.replace(b"/a", b"/broken"))
    peer.transport.receive(GET.replace(b"/a", b"/odd"))  # any three digits may be sent (RFC 9110 15)
    counts = peer.transport.counters.responses
    assert counts == {"GET": [0, 0, 2, 0, 0, 1, 0, 1, 0, 0], "HEAD": [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]}


def test_an_unknown_method_is_counted_as_other_so_clients_cannot_grow_the_counters() -> None:
    peer = Peer()
    for method in (b"BREW", b"PROPFIND", b"X" * 40, b"other"):
        peer.transport.receive(GET.replace(b"GET", method))
    assert peer.transport.counters.responses == {"other": [0, 0, 4] + [0] * 7}


def test_an_error_of_the_connection_is_counted_with_its_method_or_none() -> None:
    reading = Peer(lambda exchange: exchange.read_body(lambda data: None, lambda: None))
    reading.transport.receive(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n123")
    reading.transport.time_out()
    assert reading.transport.counters.responses == {"POST": [0, 0, 0, 0, 1] + [0] * 5}  # 408 for the body
    garbage = Peer()
    garbage.transport.receive(b"\x16\x03\x01 not a request line\r\n\r\n")
    assert garbage.transport.counters.responses == {"": [0, 0, 0, 0, 1] + [0] * 5}  # 400: no request head read
