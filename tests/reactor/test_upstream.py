"""A connection to a backend (reactor/upstream.py) over a FakeTransport: what it sends, what it reads
for and under which timeout, what it tells its receiver, and when it goes back to its pool."""

from __future__ import annotations

import socket
from typing import cast

from reactor.http.client import ResponseHead
from reactor.loop.eventloop import EventLoop
from reactor.net.iostate import IOState, Timeout
from reactor.net.transport import Transport
from reactor.testing import FakeClock, FakeTransport
from reactor.upstream import IDLE_TIMEOUT, UpstreamConnection, UpstreamPool

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


class Receiver:
    """Records what an UpstreamConnection tells it."""

    def __init__(self) -> None:
        self.told: list[tuple[object, ...]] = []

    def response_head(self, head: ResponseHead) -> None:
        self.told.append(("head", head.status))

    def response_data(self, data: bytes) -> None:
        self.told.append(("data", data))

    def response_end(self) -> None:
        self.told.append(("end",))

    def response(self, head: ResponseHead, body: bytes) -> None:
        self.told.append(("whole", head.status, body))

    def response_failed(self, status: int, reason: str, retry: bool) -> None:
        self.told.append(("failed", status, retry))

    def pause_request_body(self) -> None:
        self.told.append(("pause body",))

    def resume_request_body(self) -> None:
        self.told.append(("resume body",))


def connection() -> tuple[UpstreamConnection, FakeTransport, UpstreamPool]:
    loop = EventLoop(clock=FakeClock())
    pool = UpstreamPool(loop, [(socket.AF_INET, ("127.0.0.1", 9))], 30.0)
    upstream = UpstreamConnection(pool)
    transport = FakeTransport(loop)
    transport.attach(upstream)
    return upstream, transport, pool


def test_nothing_is_read_before_a_request_then_the_head_is_timed() -> None:
    upstream, transport, _ = connection()
    assert transport.state is IOState.WAITING
    upstream.send(Receiver(), "GET", "/x", [("host", "h")])
    assert transport.take() == b"GET /x HTTP/1.1\r\nhost: h\r\n\r\n"
    assert (transport.state, transport.read_timeout) == (IOState.READING, Timeout.HEADER_TIMEOUT)


def test_while_the_body_goes_out_no_read_timeout_runs_then_the_head_s() -> None:
    upstream, transport, _ = connection()
    upstream.send(Receiver(), "POST", "/x", [("host", "h")], 5)
    assert transport.read_timeout is Timeout.NO_TIMEOUT
    upstream.send_body(b"hel")
    upstream.send_body(b"lo")
    upstream.end_body()
    assert transport.take().endswith(b"\r\n\r\nhello")
    assert transport.read_timeout is Timeout.HEADER_TIMEOUT


def test_a_response_is_passed_on_and_the_connection_goes_back_to_the_pool() -> None:
    upstream, transport, pool = connection()
    receiver = Receiver()
    upstream.send(receiver, "GET", "/x", [("host", "h")])
    transport.receive(b"HTTP/1.1 100 Continue\r\n\r\n" + OK[:-2])
    assert receiver.told == [("head", 200), ("data", b"hel")]
    assert transport.read_timeout is Timeout.BODY_TIMEOUT
    transport.receive(b"lo")
    assert receiver.told[2:] == [("data", b"lo"), ("end",)]
    assert pool.take_idle() is upstream
    assert (transport.state, transport.read_timeout) == (IOState.READING, Timeout.KEEPALIVE_TIMEOUT)
    assert pool.limits.keepalive_timeout == IDLE_TIMEOUT


def test_a_small_response_that_arrived_whole_is_passed_on_whole() -> None:
    upstream, transport, pool = connection()
    receiver = Receiver()
    upstream.send(receiver, "GET", "/x", [("host", "h")])
    transport.receive(OK)
    assert receiver.told == [("whole", 200, b"hello")]
    assert pool.take_idle() is upstream
    upstream.send(receiver, "HEAD", "/x", [("host", "h")])
    transport.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")  # no body after HEAD: no whole
    assert receiver.told[1:] == [("head", 200), ("end",)]


def test_a_response_that_closes_the_connection_does_not_go_back() -> None:
    upstream, transport, pool = connection()
    receiver = Receiver()
    upstream.send(receiver, "GET", "/x", [("host", "h")])
    transport.receive(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert receiver.told == [("whole", 200, b"")]
    assert transport.closing and pool.idle == 0


def test_the_timeouts_say_504_and_an_idle_one_closes() -> None:
    upstream, transport, _ = connection()
    receiver = Receiver()
    upstream.send(receiver, "GET", "/x", [("host", "h")])
    transport.time_out()
    assert receiver.told == [("failed", 504, False)]
    assert transport.state is IOState.CLOSED

    upstream, transport, pool = connection()
    upstream.send(Receiver(), "GET", "/x", [("host", "h")])
    transport.receive(OK)
    transport.time_out()  # the idle timeout
    assert transport.closing and pool.idle == 0


def test_a_backend_that_takes_none_of_the_request_for_the_send_timeout_is_a_504() -> None:
    upstream, transport, _ = connection()
    receiver = Receiver()
    upstream.send(receiver, "PUT", "/x", [("host", "h")], 1 << 20)
    transport.abort("send timeout")  # what the transport closes with when its send timer runs out
    assert receiver.told == [("failed", 504, False)]


def test_a_close_without_an_answer_may_be_retried_only_on_a_reused_connection() -> None:
    upstream, transport, _ = connection()
    first = Receiver()
    upstream.send(first, "GET", "/x", [("host", "h")])
    transport.receive_eof()
    assert first.told == [("failed", 502, False)], "a new connection: the backend saw the request"

    upstream, transport, _ = connection()
    upstream.send(Receiver(), "GET", "/x", [("host", "h")])
    transport.receive(OK)
    second = Receiver()
    upstream.send(second, "GET", "/x", [("host", "h")])
    transport.receive_eof()
    assert second.told == [("failed", 502, True)]


def test_bytes_from_the_backend_while_idle_close_the_connection() -> None:
    upstream, transport, pool = connection()
    upstream.send(Receiver(), "GET", "/x", [("host", "h")])
    transport.receive(OK)
    assert pool.idle == 1
    transport.receive(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert transport.state is IOState.CLOSED and pool.idle == 0 and pool.open == 0


def test_a_paused_response_waits_and_resumes_with_what_was_read() -> None:
    upstream, transport, _ = connection()
    paused: list[bool] = []

    class Slow(Receiver):
        def response_data(self, data: bytes) -> None:
            super().response_data(data)
            if not paused:
                paused.append(True)
                upstream.pause_response()

    receiver = Slow()
    upstream.send(receiver, "GET", "/x", [("host", "h")])
    transport.receive(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n")
    assert receiver.told == [("head", 200), ("data", b"ab")]
    assert transport.state is IOState.WAITING
    upstream.resume_response()
    assert receiver.told[2:] == [("data", b"cd"), ("end",)]


def test_the_request_body_pauses_with_the_backend_s_send_queue() -> None:
    upstream, transport, _ = connection()
    receiver = Receiver()
    upstream.send(receiver, "PUT", "/x", [("host", "h")], chunked=True)
    cast(Transport, transport).protocol.pause_writing()
    cast(Transport, transport).protocol.resume_writing()
    assert receiver.told == [("pause body",), ("resume body",)]


def test_a_malformed_response_is_a_502() -> None:
    upstream, transport, _ = connection()
    receiver = Receiver()
    upstream.send(receiver, "GET", "/x", [("host", "h")])
    transport.receive(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
    assert receiver.told == [("failed", 502, False)]
    assert transport.state is IOState.CLOSED


def test_a_closed_pool_opens_no_connection_and_says_so() -> None:
    loop = EventLoop()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        pool = UpstreamPool(loop, [(socket.AF_INET, listener.getsockname())], 5.0)
        ready: list[UpstreamConnection] = []
        failed: list[tuple[str, bool]] = []
        pool.connect(ready.append, lambda reason, timed_out: failed.append((reason, timed_out)))
        pool.close()  # while the connect is under way
        for _ in range(100):
            if failed:
                break
            loop.run_once()
        assert (ready, failed, pool.open) == ([], [("the proxy is closing", False)], 0)
    loop.close()
