"""The plain transport under a protocol that records what it is told: a socketpair for the bytes (a
socket whose sends the test meters, where exact amounts matter), a fake clock for the timers, the
loop ticked by hand. What the transport promises its protocol: positions in the stream, counts, the
water marks, the one send per callback, the errors and how each ends the connection."""

from __future__ import annotations

import dataclasses
import errno
import functools
import io
import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reactor.limits import Limits
from reactor.loop.eventloop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.net.iostate import IOState, Timeout
from reactor.net.transport import Counters, Protocol, Transport, TransportInterface
from reactor.testing import FakeClock, read_available, tick
from reactor.trace.tracer import Tracer

Step = Callable[[TransportInterface, bytes], object]


class Recorder(Protocol):
    """Reads with the keep-alive timeout unless ``made`` says otherwise; ``on_data`` runs inside
    data_received."""

    def __init__(self, on_data: Step | None = None, made: Callable[[TransportInterface], object] | None = None) -> None:
        self.received = bytearray()
        self.lost: list[str] = []
        self.timeouts: list[Timeout] = []
        self.told: list[str] = []
        self.on_data = on_data
        self.made = made

    def connection_made(self, transport: TransportInterface) -> None:
        super().connection_made(transport)
        if self.made is not None:
            self.made(transport)
        else:
            transport.resume_reading(Timeout.KEEPALIVE_TIMEOUT)

    def data_received(self, data: bytes) -> None:
        self.received += data
        if self.on_data is not None:
            self.on_data(self.transport, data)

    def pause_writing(self) -> None:
        self.told.append("pause")

    def resume_writing(self) -> None:
        self.told.append("resume")

    def timed_out(self, timeout: Timeout) -> None:
        self.timeouts.append(timeout)

    def connection_lost(self, reason: str) -> None:
        self.lost.append(reason)


class MeteredSocket(socket.socket):
    """A real socket (the selector watches it) whose sends take no more than ``allowance`` bytes in
    all (None: what the kernel takes), and raise ``error`` when it is set."""

    allowance: int | None = None
    error: OSError | None = None
    shutdown_error: OSError | None = None

    def send(self, data: Any, flags: int = 0) -> int:
        if self.error is not None:
            raise self.error
        if self.allowance is not None:
            if not self.allowance:
                raise BlockingIOError
            data = memoryview(data)[: self.allowance]
        sent = super().send(data, flags)
        if self.allowance is not None:
            self.allowance -= sent
        return sent

    def sendmsg(self, buffers: Iterable[Any], *args: Any) -> int:
        return self.send(b"".join(buffers))

    def recv(self, size: int, flags: int = 0) -> bytes:
        if self.error is not None:
            raise self.error
        return super().recv(size, flags)

    def shutdown(self, how: int) -> None:
        if self.shutdown_error is not None:
            raise self.shutdown_error
        super().shutdown(how)


class Rig:
    def __init__(self, protocol: Recorder, *, start: bool = True, **options: Any) -> None:
        self.protocol = protocol
        self.clock = FakeClock()
        self.loop = EventLoop(clock=self.clock)
        pair, self.peer = socket.socketpair()
        self.sock = MeteredSocket(fileno=pair.detach())
        self.sock.setblocking(False)
        self.peer.setblocking(False)
        limits = {name: options.pop(name) for name in list(options) if hasattr(Limits, name)}
        self.limits = dataclasses.replace(Limits(), **limits)
        self.transport = Transport(self.loop, self.sock, ("127.0.0.1", 40000), protocol, self.limits, **options)
        if start:
            self.transport.start()

    def received(self) -> bytes:
        return read_available(self.peer)

    def send(self, data: bytes) -> None:
        self.peer.send(data)
        tick(self.loop)

    def interest(self) -> int:
        """What the selector watches the socket for."""
        return self.loop._selector.get_key(self.sock).events

    def close(self) -> None:
        self.transport.abort("test over")
        self.peer.close()
        self.loop.close()


@pytest.fixture
def make_rig() -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(protocol: Recorder | None = None, **options: Any) -> Rig:
        made.append(Rig(protocol if protocol is not None else Recorder(), **options))
        return made[-1]

    yield make
    for rig in made:
        rig.close()


def test_when_sent_tells_each_position_once_its_bytes_have_left(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    told: list[tuple[int, str]] = []
    rig.transport.when_sent(lambda sent, tag: told.append((sent, tag)), "nothing queued")
    assert told == [(0, "nothing queued")], "at once"
    rig.sock.allowance = 0  # the peer takes nothing for now
    rig.transport.write(b"a" * 10)
    rig.transport.when_sent(lambda sent, tag: told.append((sent, tag)), "first")
    rig.transport.write(b"b" * 5)
    rig.transport.when_sent(lambda sent, tag: told.append((sent, tag)), "second")
    assert told == [(0, "nothing queued")] and rig.transport.queued == 15
    rig.sock.allowance = 10
    rig.transport.on_writable()
    assert told[1:] == [(10, "first")], "the first ten bytes left: the first position, not the second"
    rig.sock.allowance = 5
    rig.transport.on_writable()
    assert told[2:] == [(15, "second")]
    rig.sock.allowance = 0
    rig.transport.write(b"c" * 4)
    rig.transport.when_sent(lambda sent, tag: told.append((sent, tag)), "never left")
    rig.transport.abort("cut")
    assert told[3:] == [(15, "never left")], "told at the close, with what really left"
    assert rig.received() == b"a" * 10 + b"b" * 5


def test_counts_add_up_across_reads_sends_and_connections(make_rig: Callable[..., Rig]) -> None:
    counters = Counters()
    assert (counters.requests, counters.bytes_received, counters.bytes_sent, counters.closes) == (0, 0, 0, {})
    echo: Step = lambda transport, data: transport.write(data * 2)  # noqa: E731
    first = make_rig(Recorder(echo), counters=counters)
    second = make_rig(Recorder(echo), counters=counters)
    first.send(b"abc")
    first.send(b"defg")
    second.send(b"hi")
    assert (counters.bytes_received, counters.bytes_sent) == (9, 18)
    assert (first.transport.sent, first.transport.written, first.transport.queued) == (14, 14, 0)
    assert first.received() == b"abcabcdefgdefg"
    first.transport.abort("one")
    second.transport.abort("one")
    assert counters.closes == {"one": 2}


def test_a_transport_says_who_it_is(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(ident=7)
    fd = rig.sock.fileno()
    assert repr(rig.transport) == f"<Transport #7 fd={fd} 127.0.0.1:40000 reading queued=0>"
    assert rig.transport.close_reason == ""
    rig.transport.abort("gone")
    assert rig.transport.summary() == "#7 fd=-1 127.0.0.1:40000 closed queued=0"
    assert make_rig().transport.summary().startswith("#0 fd=")


def test_the_server_address_is_the_sockets_own() -> None:
    loop = EventLoop(clock=FakeClock())
    with socket.create_server(("127.0.0.1", 0)) as listener:
        address = listener.getsockname()
        client = socket.create_connection(address)
        ours, _ = listener.accept()
    transport = Transport(loop, ours, ("127.0.0.1", 1), Recorder(), Limits())
    try:
        assert transport.server_address == address
    finally:
        transport.abort("test over")
        client.close()
        loop.close()


def test_a_protocol_that_does_not_read_at_the_accept_is_not_read(make_rig: Callable[..., Rig]) -> None:
    protocol = Recorder(made=lambda transport: transport.pause_reading())
    rig = make_rig(protocol, start=False)
    rig.peer.send(b"early")
    rig.transport.start()
    assert protocol.received == b"" and rig.transport.state is IOState.WAITING
    rig.transport.resume_reading()
    tick(rig.loop)
    assert protocol.received == b"early"


def test_resuming_with_the_same_timeout_after_a_pause_reads_again(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.transport.pause_reading()
    rig.transport.resume_reading(Timeout.KEEPALIVE_TIMEOUT)
    assert rig.transport.state is IOState.READING


def fail(*args: object) -> None:
    raise RuntimeError("bug")


@pytest.mark.parametrize("where", ["connection_made", "data_received"])
def test_a_callback_that_raises_is_logged_by_name_and_closes_its_connection(
    make_rig: Callable[..., Rig], where: str, caplog: pytest.LogCaptureFixture
) -> None:
    protocol = Recorder(made=fail) if where == "connection_made" else Recorder(on_data=fail)
    rig = make_rig(protocol)
    if where == "data_received":
        rig.send(b"x")
    assert protocol.lost == ["internal error"]
    [record] = [r for r in caplog.records if r.name == "reactor.net.transport"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    closed = "<Transport #0 fd=-1 127.0.0.1:40000 closed queued=0>"
    assert record.getMessage() == f"{closed}: Recorder.{where} failed; closing the connection"


def test_a_bytearray_written_is_copied_before_the_caller_reuses_it(make_rig: Callable[..., Rig]) -> None:
    def reuse(transport: TransportInterface, data: bytes) -> None:
        buffer = bytearray(b"abc")
        transport.write(buffer)  # type: ignore[arg-type]  # handlers do hand bytearrays over
        buffer[:] = b"xyz"

    rig = make_rig(Recorder(reuse))
    rig.send(b"go")
    assert rig.received() == b"abc"


def test_writes_in_a_callback_leave_in_one_send_after_it_unless_past_the_high_water_mark(
    make_rig: Callable[..., Rig], tmp_path: Path
) -> None:
    (tmp_path / "f").write_bytes(b"f" * 100)
    seen: list[int] = []

    def write(transport: TransportInterface, data: bytes) -> None:
        with open(tmp_path / "f", "rb") as file:
            transport.write_file(file, 0, 60, owns_file=False)
            transport.write(b"a" * 40)  # 100 queued: at the mark, not past it
            seen.append(transport.sent)
            transport.write(b"b")  # past it: sent now
            seen.append(transport.sent)
            transport.write(b"c" * 60)
            transport.write_file(file, 60, 40, owns_file=False)  # 100 queued: at the mark
            seen.append(transport.sent)
            transport.write_file(file, 0, 1, owns_file=False)  # past it
            seen.append(transport.sent)

    rig = make_rig(Recorder(write), high_water=100, low_water=10)
    rig.send(b"go")
    assert seen == [0, 101, 101, 202]
    assert rig.received() == b"f" * 60 + b"a" * 40 + b"b" + b"c" * 60 + b"f" * 41


def test_send_now_sends_inside_a_callback_when_nothing_is_queued_before_it(make_rig: Callable[..., Rig]) -> None:
    seen: list[tuple[int, int]] = []

    def reply(transport: TransportInterface, data: bytes) -> None:
        transport.send_now(b"reply to " + data)
        seen.append((transport.sent, transport.queued))  # gone already: the queue never held it
        transport.send_now(b"!")
        seen.append((transport.sent, transport.queued))

    rig = make_rig(Recorder(reply))
    rig.send(b"a")
    assert seen == [(10, 0), (11, 0)]
    assert rig.received() == b"reply to a!"
    assert (rig.transport.counters.bytes_sent, rig.transport.state) == (11, IOState.READING)


def test_send_now_behind_queued_bytes_waits_for_them_and_a_short_send_queues_the_rest(
    make_rig: Callable[..., Rig],
) -> None:
    seen: list[tuple[int, int]] = []

    def reply(transport: TransportInterface, data: bytes) -> None:
        if data == b"queued first":
            transport.write(b"a" * 5)
        transport.send_now(b"b" * 5)
        seen.append((transport.sent, transport.queued))

    rig = make_rig(Recorder(reply))
    rig.send(b"queued first")
    assert seen == [(0, 10)]  # behind written bytes: in order, in the one send after the callback
    assert rig.received() == b"a" * 5 + b"b" * 5
    rig.sock.allowance = 3
    rig.send(b"short")
    assert seen[-1] == (13, 2)  # what the socket took now, and the rest queued
    assert rig.transport.state is IOState.READING and rig.interest() == EVENT_READ | EVENT_WRITE
    rig.sock.allowance = None
    rig.transport.on_writable()
    assert rig.received() == b"b" * 5
    assert (rig.transport.sent, rig.transport.queued, rig.interest()) == (15, 0, EVENT_READ)


def test_send_now_leaves_a_send_error_to_the_queues_send_after_the_callback(make_rig: Callable[..., Rig]) -> None:
    def reply(transport: TransportInterface, data: bytes) -> None:
        rig.sock.error = BrokenPipeError(errno.EPIPE, "Broken pipe")
        transport.send_now(b"lost")
        assert not transport.closing  # nothing is closed inside the protocol's callback

    rig = make_rig(Recorder(reply))
    rig.send(b"a")
    assert rig.protocol.lost == ["peer reset"]


def test_send_now_while_closing_or_traced_is_a_write(make_rig: Callable[..., Rig]) -> None:
    stream = io.StringIO()
    rig = make_rig(Recorder(lambda transport, data: transport.send_now(data)), tracer=Tracer(stream, FakeClock()))
    rig.send(b"hi")
    assert rig.received() == b"hi"
    facts = [line.split(maxsplit=2)[2] for line in stream.getvalue().splitlines()]
    assert "queue bytes=2 queued=2" in facts and "send bytes=2" in facts  # traced as any write

    def close_then_reply(transport: TransportInterface, data: bytes) -> None:
        transport.close()  # the state moves after the callback, but nothing more is written now
        transport.send_now(b"late")
        seen.append((transport.sent, transport.queued))

    seen: list[tuple[int, int]] = []
    untraced = make_rig(Recorder(close_then_reply))
    untraced.send(b"last")
    assert seen == [(0, 0)] and untraced.received() == b"" and untraced.transport.state is IOState.CLOSED


def test_a_file_written_is_closed_once_sent_when_it_is_the_transports(
    make_rig: Callable[..., Rig], tmp_path: Path
) -> None:
    (tmp_path / "f").write_bytes(b"0123456789")
    rig = make_rig()
    owned, lent = open(tmp_path / "f", "rb"), open(tmp_path / "f", "rb")  # noqa: SIM115
    try:
        rig.transport.write_file(owned, 0, 10, owns_file=True)
        rig.transport.write_file(lent, 2, 3, owns_file=False)
        assert rig.received() == b"0123456789234"
        assert owned.closed and not lent.closed
    finally:
        owned.close()
        lent.close()


def test_file_ranges_go_through_the_sendfile_given(make_rig: Callable[..., Rig], tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"0123456789")
    calls: list[tuple[int, int]] = []

    def sendfile(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        calls.append((offset, count))
        return os.sendfile(out_fd, in_fd, offset, count)

    rig = make_rig(sendfile=sendfile)
    with open(tmp_path / "f", "rb") as file:
        rig.transport.write_file(file, 4, 6, owns_file=False)
    assert calls == [(4, 6)] and rig.received() == b"456789"


def test_backpressure_starts_past_the_high_mark_and_ends_at_the_low_one(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(
        Recorder(lambda transport, data: transport.write(b"x" * 150)), high_water=100, low_water=50, start=False
    )
    rig.sock.allowance = 0
    rig.transport.start()
    rig.send(b"go")
    assert rig.transport.state is IOState.WRITING and rig.protocol.told == ["pause"]
    drained: list[str] = []
    rig.transport.when_drained(drained.append, "drained")
    rig.sock.allowance = 70  # 80 left: between the marks
    rig.transport.on_writable()
    tick(rig.loop)
    assert rig.transport.state is IOState.WRITING and drained == [], "no resume above the low mark"
    rig.sock.allowance = 30  # 50 left: at the low mark
    rig.transport.on_writable()
    assert rig.transport.state is IOState.READING and rig.protocol.told == ["pause", "resume"]
    tick(rig.loop)
    assert drained == ["drained"]
    rig.transport.when_drained(drained.append, "at once")
    tick(rig.loop)
    assert drained == ["drained", "at once"], "50 queued is at the low mark: the producer may go on"


def test_a_socket_error_other_than_the_peer_leaving_is_a_warning(
    make_rig: Callable[..., Rig], caplog: pytest.LogCaptureFixture
) -> None:
    rig = make_rig(ident=3)
    rig.sock.error = OSError(errno.EINVAL, "Invalid argument")
    rig.transport.write(b"x")
    assert rig.protocol.lost == ["socket error"]
    [record] = [r for r in caplog.records if r.name == "reactor.net.transport"]
    assert record.levelno == logging.WARNING
    closed = "<Transport #3 fd=-1 127.0.0.1:40000 closed queued=0>"
    assert record.getMessage() == f"{closed}: socket error: [Errno 22] Invalid argument"


def test_the_peer_leaving_is_a_quiet_close(make_rig: Callable[..., Rig], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="reactor.net.transport")
    rig = make_rig(ident=3)
    rig.sock.error = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    rig.transport.on_readable()
    assert rig.protocol.lost == ["peer reset"]
    [record] = [r for r in caplog.records if r.name == "reactor.net.transport"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage() == (
        "<Transport #3 fd=-1 127.0.0.1:40000 closed queued=0>: peer gone: [Errno 104] Connection reset by peer"
    )


def test_a_file_that_shrank_before_it_was_sent_closes_the_connection(
    make_rig: Callable[..., Rig], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "f").write_bytes(b"0123456789")
    rig = make_rig()
    with open(tmp_path / "f", "rb") as file:
        rig.transport.write_file(file, 0, 100, owns_file=False)
        tick(rig.loop)  # the first ten bytes went at once; the next sendfile finds the end of the file
    assert rig.protocol.lost == ["file shrank"]
    [record] = [r for r in caplog.records if r.name == "reactor.net.transport"]
    assert record.levelno == logging.WARNING and "ended before offset 10" in record.getMessage()
    assert record.getMessage().startswith("<Transport #0 fd=")


def test_a_close_that_cannot_shut_down_our_side_closes_at_once(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.sock.shutdown_error = OSError(errno.ENOTCONN, "not connected")
    rig.transport.close("refused", linger=True)
    assert rig.transport.state is IOState.CLOSED and rig.protocol.lost == ["refused"]


def test_lingering_is_traced_and_ends_on_a_read_error(make_rig: Callable[..., Rig]) -> None:
    stream = io.StringIO()
    rig = make_rig(tracer=Tracer(stream, FakeClock()), ident=1)
    rig.transport.close("refused", linger=True)
    assert rig.transport.state is IOState.LINGERING
    assert "#1    linger write side shut down; reading what the peer still sends" in stream.getvalue()
    rig.sock.error = ConnectionResetError(errno.ECONNRESET, "reset")
    rig.transport.on_readable()
    assert rig.transport.state is IOState.CLOSED and rig.protocol.lost == ["refused"]


def test_the_linger_and_send_timeouts_end_the_connection_without_asking_the_protocol(
    make_rig: Callable[..., Rig],
) -> None:
    lingering = make_rig(lingering_timeout=2)
    lingering.transport.close("refused", linger=True)
    lingering.clock.advance(3)
    tick(lingering.loop)
    assert lingering.protocol.lost == ["linger timeout"] and lingering.protocol.timeouts == []
    sending = make_rig(send_timeout=2)
    sending.sock.allowance = 0
    sending.transport.write(b"x")
    sending.clock.advance(3)
    tick(sending.loop)
    assert sending.protocol.lost == ["send timeout"] and sending.protocol.timeouts == []


class Reader(Protocol):
    """Protocol's defaults, reading with the keep-alive timeout."""

    def connection_made(self, transport: TransportInterface) -> None:
        super().connection_made(transport)
        transport.resume_reading(Timeout.KEEPALIVE_TIMEOUT)


@pytest.mark.parametrize(("ending", "reason"), [("end", "closed"), ("timeout", "keep-alive timeout")])
def test_by_default_a_protocol_closes_at_the_peers_end_and_at_its_read_timeout(ending: str, reason: str) -> None:
    clock = FakeClock()
    loop = EventLoop(clock=clock)
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    protocol = Reader()
    transport = Transport(loop, ours, ("127.0.0.1", 1), protocol, Limits(keepalive_timeout=5))
    try:
        transport.start()
        assert protocol.transport is transport
        if ending == "end":
            peer.shutdown(socket.SHUT_WR)
        else:
            clock.advance(6)
        tick(loop)
        assert (transport.state, transport.close_reason) == (IOState.CLOSED, reason)
    finally:
        transport.abort("test over")
        peer.close()
        loop.close()


def test_entering_a_state_arms_its_rows_timer_afresh(make_rig: Callable[..., Rig]) -> None:
    # Writing and closing are both timed by the send timeout; the close starts it again, so the last
    # bytes get a whole send timeout however long the peer had already stalled.
    rig = make_rig(send_timeout=30, high_water=100, low_water=10)
    rig.sock.allowance = 0
    rig.transport.write(b"x" * 200)
    assert rig.transport.state is IOState.WRITING
    rig.clock.advance(20)
    tick(rig.loop)
    rig.transport.close("done")
    assert rig.transport.state is IOState.CLOSING
    rig.clock.advance(15)
    tick(rig.loop)
    assert rig.transport.state is IOState.CLOSING, "35 s since the last send, 15 since closing"
    rig.clock.advance(16)
    tick(rig.loop)
    assert rig.protocol.lost == ["send timeout"]


def test_a_protocol_that_stays_open_after_the_peers_end_is_read_no_more(make_rig: Callable[..., Rig]) -> None:
    class HalfOpen(Recorder):
        def eof_received(self) -> bool:
            return True  # we still have something to say

    rig = make_rig(HalfOpen())
    rig.peer.shutdown(socket.SHUT_WR)
    tick(rig.loop)
    assert rig.transport.state is IOState.WAITING, "reading an ended stream would spin on b''"
    rig.transport.write(b"last words")
    rig.transport.close("said")
    assert rig.received() == b"last words" and rig.protocol.lost == ["said"]


def test_a_read_timeout_the_protocol_lets_pass_is_armed_again_by_the_next_read(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(keepalive_timeout=5)  # the Recorder only records its timeouts
    rig.clock.advance(6)
    tick(rig.loop)
    assert rig.protocol.timeouts == [Timeout.KEEPALIVE_TIMEOUT]
    rig.send(b"still here")
    rig.clock.advance(6)
    tick(rig.loop)
    assert rig.protocol.timeouts == [Timeout.KEEPALIVE_TIMEOUT] * 2


def test_failures_in_callbacks_and_in_connection_lost_are_logged_by_name(
    make_rig: Callable[..., Rig], caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Recorder):
        def connection_lost(self, reason: str) -> None:
            raise RuntimeError("bug")

    closed: list[Transport] = []
    rig = make_rig(Broken(), on_closed=closed.append)
    rig.transport.defer(functools.partial(fail, "partial"))
    messages = [
        (r.levelno, r.getMessage().split(": ", 1)[1]) for r in caplog.records if r.name == "reactor.net.transport"
    ]
    assert messages[0][1].startswith("functools.partial(<function fail") and messages[0][1].endswith(
        "failed; closing the connection"
    )
    assert messages[1] == (logging.ERROR, "connection_lost failed"), "and the close goes on"
    assert caplog.records[1].getMessage().startswith("<Transport #0 fd=-1 "), "which connection"
    assert closed == [rig.transport]
    other = make_rig()
    other.transport.defer(fail)
    assert caplog.records[-1].getMessage().endswith(": fail failed; closing the connection")


def test_only_leaving_the_writing_state_is_traced_as_a_resume(make_rig: Callable[..., Rig]) -> None:
    stream = io.StringIO()
    rig = make_rig(tracer=Tracer(stream, FakeClock()), ident=1)
    rig.transport.pause_reading()
    rig.transport.resume_reading()
    facts = [line.split(maxsplit=2)[2] for line in stream.getvalue().splitlines()[1:]]
    assert facts == ["state reading -> waiting queued=0", "state waiting -> reading queued=0"]


def test_the_write_side_is_shut_down_once_after_the_queue_and_a_peer_gone_is_no_error(
    make_rig: Callable[..., Rig],
) -> None:
    stream = io.StringIO()
    rig = make_rig(tracer=Tracer(stream, FakeClock()), ident=1)
    rig.sock.allowance = 0
    rig.transport.write(b"last")
    rig.transport.write_eof()
    shut = "#1    eof write side shut down"
    assert shut not in stream.getvalue(), "not while bytes are queued"
    rig.sock.allowance = None
    tick(rig.loop)
    rig.transport.pause_reading()  # settles again, the queue still empty
    rig.transport.resume_reading()
    assert stream.getvalue().count(shut) == 1
    assert rig.received() == b"last" and rig.peer.recv(1) == b"", "the peer read our end after the bytes"
    gone = make_rig()
    gone.sock.shutdown_error = OSError(errno.ENOTCONN, "not connected")
    gone.transport.write_eof()  # the next read finds the peer gone and closes
    assert gone.transport.state is IOState.READING
