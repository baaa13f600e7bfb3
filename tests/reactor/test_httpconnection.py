"""An HTTP connection on a real transport over a socketpair, with a fake clock for its timeouts: the I/O
state machine, backpressure, timeouts and the trace, end to end."""

from __future__ import annotations

import dataclasses
import io
import logging
import socket
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reactor.exchange import Exchange
from reactor.http.events import Event
from reactor.http.serverconnection import ServerConnection
from reactor.httpconnection import ConnectionConfig, HTTPConnection
from reactor.limits import Limits
from reactor.loop.eventloop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.net.iostate import IO_TRANSITIONS, IOState
from reactor.net.transport import Transport
from reactor.testing import FakeClock, read_available, tick
from reactor.trace.tracer import Tracer
from tests.integration.client import wait_until


class Rig:
    """A connection whose peer is the ``client`` end of a socketpair, driven by ``tick``."""

    def __init__(
        self,
        handler,
        tracer: Tracer | None = None,
        pair: Callable[[], tuple[socket.socket, socket.socket]] = socket.socketpair,
        **limits: float,
    ) -> None:
        self.clock = FakeClock()
        self.loop = EventLoop(clock=self.clock)
        self.limits = dataclasses.replace(Limits(), **limits)  # type: ignore[arg-type]
        self.closed: list[Transport] = []
        self.client, server_side = pair()
        server_side.setblocking(False)
        self.client.setblocking(False)
        self.connection = HTTPConnection(ConnectionConfig(handler, self.limits))
        self.transport = Transport(
            self.loop,
            server_side,
            ("127.0.0.1", 40000),
            self.connection,
            self.limits,
            ident=1,
            tracer=tracer,
            on_closed=self.closed.append,
        )
        self.transport.start()

    def tick(self, times: int = 1) -> None:
        for _ in range(times):
            tick(self.loop)

    def received(self) -> bytes:
        return read_available(self.client)

    def read_until_sent(self, ticks: int = 1000) -> bytes:
        """Read as the peer while the loop runs, until the transport's queue is empty (at most
        ``ticks`` loop passes); return what arrived."""
        received = b""
        for _ in range(ticks):
            received += self.received()
            self.tick()
            if not self.transport.queued:
                break
        return received + self.received()

    def interest(self) -> int:
        try:
            return self.loop._selector.get_key(self.transport.sock).events
        except (KeyError, ValueError):
            return 0

    def close(self) -> None:
        self.client.close()
        self.transport.abort("test over")
        self.loop.close()


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A (client, server) pair over loopback TCP, for what only TCP does: a reset."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _address = listener.accept()
    return client, server


def hello(exchange: Exchange) -> None:
    exchange.respond(200, [("Content-Type", "text/plain")], b"hello")


@pytest.fixture
def rig() -> Iterator[Rig]:
    rig = Rig(hello)
    yield rig
    rig.close()


def test_request_gets_a_response_and_the_connection_reads_again(rig: Rig) -> None:
    rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    rig.tick()
    assert rig.received().endswith(b"\r\n\r\nhello")
    assert rig.transport.state is IOState.READING
    assert rig.interest() == EVENT_READ, "no write interest once the queue is empty"


def test_write_interest_only_while_bytes_are_queued() -> None:
    body = b"x" * (4 << 20)
    rig = Rig(lambda exchange: exchange.respond(200, [], body))
    try:
        rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        rig.tick()
        assert rig.interest() & EVENT_WRITE
        assert rig.transport.state is IOState.WRITING, "a large queue pauses reading"
        assert not rig.interest() & EVENT_READ
        received = rig.read_until_sent()
        assert received.endswith(body)
        assert rig.interest() == EVENT_READ
        assert rig.transport.state is IOState.READING
    finally:
        rig.close()


def test_header_timeout_bounds_the_whole_head_and_answers_408() -> None:
    rig = Rig(hello, header_timeout=10)
    try:
        rig.client.send(b"GET / HTTP/1.1\r\n")
        rig.tick()
        for _ in range(9):  # a byte a second does not extend the deadline (slowloris)
            rig.clock.advance(1)
            rig.client.send(b"X")
            rig.tick()
        assert rig.transport.state is IOState.READING
        rig.clock.advance(1.5)
        rig.tick(3)
        assert rig.received().startswith(b"HTTP/1.1 408 ")
        assert rig.transport.state in (IOState.LINGERING, IOState.CLOSED), "closing after the 408"
    finally:
        rig.close()


def test_keep_alive_timeout_restarts_after_each_response(rig: Rig) -> None:
    for _ in range(3):
        rig.clock.advance(rig.limits.keepalive_timeout - 1)
        rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        rig.tick()
        assert rig.received().endswith(b"hello")
    rig.clock.advance(rig.limits.keepalive_timeout + 1)
    rig.tick(2)
    assert rig.transport.state is IOState.CLOSED
    assert rig.transport.close_reason == "keep-alive timeout"
    assert rig.received() == b"", "an idle connection is closed without a response"


def test_body_timeout_runs_between_reads() -> None:
    def reader(exchange: Exchange) -> None:
        exchange.read_body(lambda data: None, lambda: exchange.respond(200, [], b"ok"))

    rig = Rig(reader, body_timeout=5)
    try:
        rig.client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n")
        rig.tick()
        for _ in range(9):
            rig.clock.advance(4)
            rig.client.send(b"a")
            rig.tick()
        assert rig.transport.state is IOState.READING, "each read restarts the body timeout"
        rig.clock.advance(6)
        rig.tick(3)
        assert rig.received().startswith(b"HTTP/1.1 408 ")
    finally:
        rig.close()


def test_a_response_still_leaving_is_not_cut_by_the_keep_alive_timeout() -> None:
    """Found by the simulation (seeds 1, 7): the keep-alive timeout ran from the moment the last byte
    was queued, so a client still reading a response, slowly but steadily, was cut off mid-body."""
    body = b"x" * (4 << 20)
    respond_big = lambda exchange: exchange.respond(200, [], body)  # noqa: E731
    rig = Rig(respond_big, keepalive_timeout=10, send_timeout=60, high_water=8 << 20, low_water=1 << 20)
    try:
        rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        rig.tick()
        assert rig.transport.state is IOState.READING and rig.transport.queued, "reading, with bytes queued"
        received = b""
        for _ in range(4):  # 32 s: past the keep-alive timeout, within the send timeout between reads
            rig.clock.advance(8)
            received += rig.received()
            rig.tick()
            assert rig.transport.state is not IOState.CLOSED, "closed while the response was leaving"
        received += rig.read_until_sent()
        assert received.endswith(body)
        rig.clock.advance(9)
        rig.tick()
        assert rig.transport.state is IOState.READING, "the keep-alive timeout starts once the queue is empty"
        rig.clock.advance(2)
        rig.tick(2)
        assert rig.transport.close_reason == "keep-alive timeout"
    finally:
        rig.close()


@pytest.mark.parametrize(("connection", "lingers"), [("keep-alive", True), ("close", False)])
def test_a_close_the_client_did_not_ask_for_lingers(connection: str, lingers: bool) -> None:
    """Found by the simulation (seeds 215, 1240): a server that closed a connection the client
    meant to keep (a shutdown, a body delimited by the close) did not linger, so the next request,
    already on its way, drew a reset that could destroy the response (RFC 9112 9.6)."""
    rig = Rig(lambda exchange: exchange.respond(200, [], b"bye", close=True))
    try:
        rig.client.send(f"GET / HTTP/1.1\r\nHost: t\r\nConnection: {connection}\r\n\r\n".encode())
        rig.tick()
        assert rig.received().endswith(b"\r\n\r\nbye")
        assert rig.transport.state is (IOState.LINGERING if lingers else IOState.CLOSED)
        if lingers:
            rig.client.send(b"GET /next HTTP/1.1\r\nHost: t\r\n\r\n")  # sent before it saw the close
            rig.tick()
            assert rig.transport.state is IOState.LINGERING, "what still arrives is read and dropped"
            rig.client.shutdown(socket.SHUT_WR)
            rig.tick()
        assert rig.transport.state is IOState.CLOSED and rig.transport.close_reason == "closed"
    finally:
        rig.close()


def test_lingering_ends_at_lingering_time_however_steadily_the_peer_sends() -> None:
    # nginx lingering_time: a client that goes on sending a body nobody reads (an upload refused at
    # once) is read and dropped for this long in all, though each read comes within lingering_timeout.
    rig = Rig(lambda exchange: exchange.respond(413, [], b"too big"), lingering_timeout=2, lingering_time=10)
    try:
        rig.client.send(b"PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n")
        rig.tick()
        assert rig.received().startswith(b"HTTP/1.1 413 ")
        assert rig.transport.state is IOState.LINGERING
        for _ in range(9):
            rig.clock.advance(1)  # within lingering_timeout of the last read
            rig.client.send(b"x" * 1000)
            rig.tick()
        assert rig.transport.state is IOState.LINGERING, "each read restarts the linger timeout"
        rig.clock.advance(1)  # 10 s in all: a read now does not extend the whole time
        rig.client.send(b"x" * 1000)
        rig.tick(2)
        assert rig.transport.state is IOState.CLOSED and rig.transport.close_reason == "linger timeout"
    finally:
        rig.close()


def test_send_timeout_closes_a_client_that_stops_reading() -> None:
    body = b"x" * (8 << 20)
    rig = Rig(lambda exchange: exchange.respond(200, [], body), send_timeout=30)
    try:
        rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        rig.tick()
        assert rig.transport.state is IOState.WRITING
        rig.clock.advance(31)
        rig.tick(2)
        assert rig.transport.state is IOState.CLOSED
        assert rig.transport.close_reason == "send timeout"
    finally:
        rig.close()


def test_closing_is_idempotent_and_reports_once(rig: Rig) -> None:
    rig.transport.abort("first")
    rig.transport.abort("second")
    assert rig.closed == [rig.transport]
    assert rig.transport.close_reason == "first"


def test_illegal_io_transition_raises_naming_the_states(rig: Rig) -> None:
    rig.transport.abort("done")
    with pytest.raises(RuntimeError, match="closed to reading"):
        rig.transport._enter(IOState.READING)


def test_closed_state_can_be_reached_from_every_state() -> None:
    for state, targets in IO_TRANSITIONS.items():
        assert state is IOState.CLOSED or IOState.CLOSED in targets


def test_repr_shows_fd_state_phase_and_queue(rig: Rig) -> None:
    text = repr(rig.connection)
    assert "fd=" in text and "reading" in text and "phase=idle" in text and "queued=0" in text


def test_on_drain_fires_once_the_queue_falls_to_the_low_water_mark() -> None:
    drained: list[int] = []
    chunk = b"y" * (256 << 10)

    def producer(exchange: Exchange) -> None:
        exchange.start_response(200, [], 4 * len(chunk))
        exchange.write(chunk)

        def more() -> None:
            drained.append(exchange.queued)
            if len(drained) < 4:
                exchange.write(chunk)
                exchange.on_drain(more)
            else:
                exchange.end()

        exchange.on_drain(more)

    rig = Rig(producer)
    try:
        rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        received = b""
        for _ in range(2000):
            rig.tick()
            received += rig.received()
            if len(drained) == 4 and not rig.transport.queued:
                break
        received += rig.received()
        assert received.endswith(chunk * 4)
        assert len(drained) == 4
        assert all(queued <= rig.limits.low_water for queued in drained)
    finally:
        rig.close()


def test_handler_failing_on_body_data_gets_500_and_the_connection_goes_on() -> None:
    def reader(exchange: Exchange) -> None:
        def on_data(data: bytes) -> None:
            raise ValueError("handler bug")

        exchange.read_body(on_data, lambda: exchange.respond(200, [], b"never"))

    rig = Rig(reader)
    try:
        rig.client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234")
        rig.tick()
        assert rig.received().startswith(b"HTTP/1.1 500 ")
        rig.client.send(b"56789GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        rig.tick(2)
        assert b"never" in rig.received(), "the rest of the body was dropped, the next request answered"
        assert rig.transport.state is IOState.READING
    finally:
        rig.close()


def test_handler_failing_at_the_end_of_the_body_gets_500() -> None:
    def reader(exchange: Exchange) -> None:
        exchange.read_body(lambda data: None, lambda: 1 / 0)

    rig = Rig(reader)
    try:
        rig.client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok")
        rig.tick()
        assert rig.received().startswith(b"HTTP/1.1 500 ")
        assert rig.transport.state is IOState.READING
    finally:
        rig.close()


def test_drain_callback_failing_mid_response_ends_the_connection() -> None:
    def producer(exchange: Exchange) -> None:
        exchange.start_response(200, [], 8 << 20)
        exchange.write(b"x" * (4 << 20))

        def more() -> None:
            raise RuntimeError("producer bug")

        exchange.on_drain(more)

    rig = Rig(producer)
    try:
        rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        for _ in range(1000):
            rig.tick()
            rig.received()
            if rig.transport.state is IOState.CLOSED:
                break
        assert rig.transport.close_reason == "response aborted", "a cut-short body tells the client"
    finally:
        rig.close()


def test_an_internal_error_closes_that_connection_only(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: ServerConnection) -> Event:
        raise RuntimeError("bug in the parser")

    monkeypatch.setattr(ServerConnection, "next_event", broken)
    rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    rig.tick()
    assert rig.transport.state is IOState.CLOSED
    assert rig.transport.close_reason == "internal error"
    rig.tick()  # the loop goes on


def test_a_handler_that_takes_its_time_is_not_cut_off_by_an_old_timer() -> None:
    # While the handler owes the response no timeout runs: the head timer must be gone, not left
    # armed to fire header_timeout after the request started.
    rig = Rig(lambda exchange: exchange.loop.call_later(300, exchange.respond, 200, [], b"late"))
    try:
        rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        rig.tick()
        assert rig.transport.state is IOState.WAITING
        rig.clock.advance(rig.limits.header_timeout + rig.limits.keepalive_timeout)
        rig.tick(2)
        assert rig.transport.state is IOState.WAITING
        rig.clock.advance(300)
        rig.tick(2)
        assert rig.received().endswith(b"late")
    finally:
        rig.close()


def test_a_body_paused_on_its_last_piece_still_ends_when_resumed() -> None:
    events: list[object] = []
    exchanges: list[Exchange] = []

    def reader(exchange: Exchange) -> None:
        exchanges.append(exchange)

        def on_data(data: bytes) -> None:
            events.append(data)
            exchange.pause_body()  # a consumer whose buffer just filled up

        exchange.read_body(on_data, lambda: events.append("end"))

    rig = Rig(reader)
    try:
        rig.client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        rig.tick(3)
        assert events == [b"hello"]
        assert rig.transport.state is IOState.WAITING
        exchanges[0].resume_body()  # nothing is buffered, yet the end of the body is owed
        assert events == [b"hello", "end"]
    finally:
        rig.close()


def test_the_trace_tells_a_request_s_life_in_order() -> None:
    stream = io.StringIO()
    rig = Rig(hello, tracer=Tracer(stream, FakeClock()))
    fd = rig.transport.sock.fileno()
    try:
        rig.client.send(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
        rig.tick()
        assert rig.received().endswith(b"hello")
        rig.client.shutdown(socket.SHUT_WR)
        rig.tick()
    finally:
        rig.close()
    lines = stream.getvalue().splitlines()
    assert all(line.split()[1] == "#1" for line in lines), lines
    transport_lines = [
        line.split(maxsplit=2)[2] for line in lines if line.split()[2] not in ("phase", "request", "response")
    ]
    assert transport_lines == [
        f"accept from=127.0.0.1:40000 fd={fd}",
        "recv bytes=28",
        "queue bytes=123 queued=123",
        "send bytes=123",
        "recv end of stream",
        "state reading -> closing queued=0",
        "close peer closed",
        "state closing -> closed queued=0",
    ]
    facts = [line.split()[2] for line in lines]
    # transport: accept, recv; HTTP connection: the phases, the request, its response; transport: the
    # bytes queued at once, and sent once the callback that read them returns.
    expected = ["accept", "recv", "phase", "request", "phase", "phase", "queue", "response", "phase", "send"]
    assert facts[: len(expected)] == expected, lines
    assert "request GET /x HTTP/1.1" in lines[3]
    assert "phase idle -> handling (request head)" in lines[2]
    assert "phase done -> idle (next cycle)" in lines[8]
    assert facts[-4:] == ["recv", "state", "close", "state"], lines
    assert lines[-4].endswith("recv end of stream") and lines[-2].endswith("close peer closed")


def test_the_trace_shows_backpressure_pauses_and_resumes() -> None:
    stream = io.StringIO()
    body = b"z" * (4 << 20)
    rig = Rig(lambda exchange: exchange.respond(200, [], body), tracer=Tracer(stream, FakeClock()))
    try:
        rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        for _ in range(2000):
            rig.tick()
            rig.received()
            if not rig.transport.queued:
                break
        rig.tick()
    finally:
        rig.close()
    text = stream.getvalue()
    assert "backpressure pause reading" in text
    assert "backpressure resume" in text
    assert "send bytes=" in text and " short" in text, "short sends are shown"


def test_the_trace_shows_a_timeout_and_the_answer_it_gets() -> None:
    stream = io.StringIO()
    rig = Rig(hello, tracer=Tracer(stream, FakeClock()), header_timeout=10)
    try:
        rig.client.send(b"GET / HTTP/1.1\r\n")
        rig.tick()
        rig.clock.advance(11)
        rig.tick(3)
        assert rig.received().startswith(b"HTTP/1.1 408 ")
    finally:
        rig.close()
    facts = [line.split(maxsplit=2)[2] for line in stream.getvalue().splitlines()]
    after = [fact for fact in facts[facts.index("timeout head") + 1 :] if not fact.startswith("phase")]
    assert after[0].startswith("queue bytes=") and after[1].startswith("response 408 body="), facts


def test_the_trace_shows_sendfile_offsets_and_short_sends(tmp_path: Path) -> None:
    content = bytes(range(256)) * (8 << 12)  # 8 MiB: more than a socket buffer takes at once
    (tmp_path / "big.bin").write_bytes(content)
    offset = 1000

    def ranged(exchange: Exchange) -> None:
        file = (tmp_path / "big.bin").open("rb")
        exchange.respond_file(206, [], file, offset, len(content) - offset)

    stream = io.StringIO()
    rig = Rig(ranged, tracer=Tracer(stream, FakeClock()))
    try:
        rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        received = b""
        for _ in range(2000):
            rig.tick()
            received += rig.received()
            if not rig.transport.queued:
                break
        received += rig.received()
        assert received.endswith(content[offset:])
    finally:
        rig.close()
    lines = stream.getvalue().splitlines()
    assert any("queue file fd=" in line and f"offset={offset} count={len(content) - offset}" in line for line in lines)
    sends = [dict(field.split("=") for field in line.split()[3:]) for line in lines if line.split()[2] == "sendfile"]
    assert len(sends) > 1, "the socket took the file in several short sends"
    position = offset
    for send in sends:
        assert int(send["offset"]) == position, "each sendfile goes on where the last one stopped"
        position += int(send["sent"])
    assert position == len(content) and sends[-1]["left"] == "0"


@pytest.mark.parametrize("value", ["a\r\nInjected: 1", "caf\u00e9 \u2603"])
def test_a_header_the_handler_cannot_send_is_a_500_and_the_connection_goes_on(value: str) -> None:
    def handler(exchange: Exchange) -> None:
        if exchange.request.path == "/bad":
            exchange.respond(200, [("X-Value", value)], b"never")
        else:
            exchange.respond(200, [], b"fine")

    rig = Rig(handler)
    try:
        rig.client.send(b"GET /bad HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
        rig.tick(2)
        received = rig.received()
        assert received.startswith(b"HTTP/1.1 500 "), received[:80]
        assert b"Injected" not in received and b"never" not in received
        assert received.endswith(b"fine"), "the next request is answered"
    finally:
        rig.close()


def test_a_peer_reset_mid_response_is_a_quiet_close(caplog: pytest.LogCaptureFixture) -> None:
    # Issue 4: a peer reset ends that connection quietly, logged at debug, never louder.
    caplog.set_level(logging.DEBUG, logger="reactor")
    body = b"r" * (8 << 20)
    rig = Rig(lambda exchange: exchange.respond(200, [], body), pair=tcp_pair)
    try:
        rig.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        rig.tick()
        assert rig.transport.state is IOState.WRITING, "the response is still going out"
        rig.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        rig.client.close()  # linger 0: the kernel sends RST

        def closed() -> bool:
            rig.tick()
            return rig.transport.state is IOState.CLOSED

        assert wait_until(closed)
        assert rig.transport.close_reason == "peer reset"
    finally:
        rig.close()
    assert [r for r in caplog.records if r.name == "reactor.net.transport" and r.levelno == logging.DEBUG]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


class RecordingLoop(EventLoop):
    """An EventLoop that remembers every file object registered with its selector."""

    def __init__(self) -> None:
        self.registered: list[object] = []
        super().__init__(clock=FakeClock())

    def register(
        self,
        fileobj: socket.socket | int,
        events: int,
        on_readable: Callable[[], object] | None,
        on_writable: Callable[[], object] | None,
    ) -> None:
        self.registered.append(fileobj)
        super().register(fileobj, events, on_readable, on_writable)


def test_a_close_answered_in_one_send_never_waits_for_the_selector() -> None:
    # The request is there at the accept; its response leaves whole in the send after the handler,
    # so the close needs neither write interest nor a send timer.
    loop = RecordingLoop()
    client, server_side = socket.socketpair()
    client.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    server_side.setblocking(False)
    limits = Limits()
    transport = Transport(
        loop, server_side, ("127.0.0.1", 40000), HTTPConnection(ConnectionConfig(hello, limits)), limits
    )
    try:
        transport.start()
        assert transport.state is IOState.CLOSED and transport.close_reason == "closed"
        assert loop.registered == [loop._wakeup_read], "the connection was never registered"
        assert loop.statistics().timers == 0, "no send timer was armed"
        client.settimeout(5)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
        assert b"\r\nConnection: close\r\n" in received and received.endswith(b"\r\n\r\nhello")
    finally:
        client.close()
        loop.close()
