"""A stream protocol on a Transport over a socketpair, driven by tick: writes, water marks, closing,
half-close."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from reactor.limits import Limits
from reactor.loop.eventloop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.net.iostate import IOState
from reactor.net.stream import StreamProtocol
from reactor.net.transport import Transport
from reactor.testing import read_available, tick


class Recorder(StreamProtocol):
    def __init__(self, keep_open: bool = False) -> None:
        self.events: list[object] = []
        self.keep_open = keep_open

    def data_received(self, data: bytes) -> None:
        self.events.append(data)

    def eof_received(self) -> bool:
        self.events.append("eof")
        return self.keep_open

    def connection_lost(self, reason: str) -> None:
        self.events.append(f"lost: {reason}")

    def pause_writing(self) -> None:
        self.events.append("pause")

    def resume_writing(self) -> None:
        self.events.append("resume")


class Pair:
    def __init__(self, protocol: Recorder) -> None:
        self.loop = EventLoop()
        self.peer, server_side = socket.socketpair()
        server_side.setblocking(False)
        self.peer.setblocking(False)
        self.closed: list[Transport] = []
        self.protocol = protocol
        self.transport = Transport(
            self.loop, server_side, ("peer", 0), protocol, Limits(), on_closed=self.closed.append
        )
        self.transport.start()

    def interest(self) -> int:
        try:
            return self.loop._selector.get_key(self.transport.sock).events
        except (KeyError, ValueError):
            return 0

    def drain_peer(self) -> bytes:
        return read_available(self.peer)


@pytest.fixture
def pair() -> Iterator[Pair]:
    pair = Pair(Recorder())
    yield pair
    pair.transport.abort()
    pair.peer.close()
    pair.loop.close()


def test_data_is_delivered_and_small_writes_leave_at_once(pair: Pair) -> None:
    pair.peer.send(b"ping")
    tick(pair.loop)
    assert pair.protocol.events == [b"ping"]
    pair.transport.write(b"pong")
    assert pair.drain_peer() == b"pong"
    assert pair.interest() == EVENT_READ  # nothing queued: no write interest


def test_water_marks_pause_and_resume_the_writer(pair: Pair) -> None:
    limits = Limits()
    pair.transport.write(b"x" * (4 << 20))  # more than the socketpair buffers hold
    assert pair.protocol.events == ["pause"]
    assert pair.interest() == EVENT_WRITE, "above the high-water mark nothing is read: the peer waits in TCP"
    received = b""
    for _ in range(10000):
        received += pair.drain_peer()
        tick(pair.loop)
        if pair.transport.queued <= limits.low_water:
            break
    assert pair.protocol.events == ["pause", "resume"]
    received += pair.drain_peer()
    for _ in range(100):
        tick(pair.loop)
        received += pair.drain_peer()
    assert len(received) == 4 << 20


def test_close_sends_what_is_queued_first(pair: Pair) -> None:
    pair.transport.write(b"y" * (1 << 20))
    pair.transport.close()
    pair.transport.write(b"ignored after close")
    assert pair.transport.state is IOState.CLOSING
    received = b""
    for _ in range(10000):
        received += pair.drain_peer()
        tick(pair.loop)
        if pair.transport.state is IOState.CLOSED:
            break
    received += pair.drain_peer()
    assert received == b"y" * (1 << 20)
    assert pair.protocol.events[-1] == "lost: closed"
    assert pair.closed == [pair.transport]


def test_abort_drops_the_queue_and_reports_once(pair: Pair) -> None:
    pair.transport.write(b"z" * (4 << 20))
    pair.transport.abort()
    pair.transport.abort()
    assert pair.protocol.events == ["pause", "lost: aborted"]
    assert pair.interest() == 0


def test_end_of_stream_closes_unless_the_protocol_keeps_it_open() -> None:
    for keep_open, expected in ((False, ["eof", "lost: closed"]), (True, ["eof"])):
        pair = Pair(Recorder(keep_open))
        try:
            pair.peer.shutdown(socket.SHUT_WR)
            tick(pair.loop)
            assert pair.protocol.events == expected
            if keep_open:
                pair.transport.write(b"late answer")  # the other direction still works
                assert pair.drain_peer() == b"late answer"
        finally:
            pair.transport.abort()
            pair.peer.close()
            pair.loop.close()
