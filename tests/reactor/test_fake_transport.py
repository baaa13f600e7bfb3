"""FakeTransport (reactor/testing.py) does what a Transport does, as far as a protocol can tell: each
case runs against both, a real Transport over a socketpair and the fake, and expects the same. mypy
checks that both satisfy transport.TransportInterface; this checks that they behave alike."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.iostate import IOState, Timeout
from reactor.net.transport import Protocol, Transport, TransportInterface
from reactor.testing import FakeClock, FakeTransport, read_available, tick

Step = Callable[[TransportInterface], object]


class Recorder(Protocol):
    """Records what the transport tells it; ``on_data`` runs inside data_received."""

    def __init__(self, on_data: Step | None = None) -> None:
        self.events: list[tuple[object, ...]] = []
        self.on_data = on_data

    def connection_made(self, transport: TransportInterface) -> None:
        super().connection_made(transport)
        transport.resume_reading(Timeout.KEEPALIVE_TIMEOUT)

    def data_received(self, data: bytes) -> None:
        self.events.append(("data", data))
        if self.on_data is not None:
            self.on_data(self.transport)
            self.events.append(("callback over", self.transport.closing))

    def eof_received(self) -> bool:
        self.events.append(("eof",))
        return False

    def connection_lost(self, reason: str) -> None:
        self.events.append(("lost", reason))


class Side:
    """A transport under a Recorder, and the peer's part: ``send``, ``end``, ``received``."""

    transport: Transport | FakeTransport

    def __init__(self, protocol: Recorder) -> None:
        self.protocol = protocol
        self.loop = EventLoop(clock=FakeClock())

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError

    def received(self) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        self.transport.abort("test over")
        self.loop.close()


class RealSide(Side):
    def __init__(self, protocol: Recorder) -> None:
        super().__init__(protocol)
        self.peer, ours = socket.socketpair()
        ours.setblocking(False)
        self.peer.setblocking(False)
        self.transport = Transport(self.loop, ours, ("127.0.0.1", 40000), protocol, Limits())
        self.transport.start()

    def send(self, data: bytes) -> None:
        self.peer.send(data)
        tick(self.loop)

    def end(self) -> None:
        self.peer.shutdown(socket.SHUT_WR)
        tick(self.loop)

    def received(self) -> bytes:
        return read_available(self.peer)

    def close(self) -> None:
        super().close()
        self.peer.close()


class FakeSide(Side):
    def __init__(self, protocol: Recorder) -> None:
        super().__init__(protocol)
        self.transport = self.fake = FakeTransport(self.loop)
        self.fake.attach(protocol)

    def send(self, data: bytes) -> None:
        self.fake.receive(data)

    def end(self) -> None:
        self.fake.receive_eof()

    def received(self) -> bytes:
        return self.fake.take()


@pytest.fixture(params=[RealSide, FakeSide], ids=["Transport", "FakeTransport"])
def make_side(request: pytest.FixtureRequest) -> Iterator[Callable[[Recorder], Side]]:
    made: list[Side] = []

    def make(protocol: Recorder) -> Side:
        made.append(request.param(protocol))
        return made[-1]

    yield make
    for side in made:
        side.close()


def test_a_close_outside_a_callback_ends_the_connection_and_tells_the_protocol_once(
    make_side: Callable[[Recorder], Side],
) -> None:
    protocol = Recorder()
    side = make_side(protocol)
    side.transport.close("done")
    assert side.transport.state is IOState.CLOSED and side.transport.closing
    assert protocol.events == [("lost", "done")]
    side.transport.write(b"late")
    side.transport.close("again")
    side.transport.abort("and again")
    assert protocol.events == [("lost", "done")] and side.transport.sent == 0


def test_a_close_inside_a_callback_takes_effect_after_it(make_side: Callable[[Recorder], Side]) -> None:
    def answer_and_close(transport: TransportInterface) -> None:
        transport.write(b"bye")
        transport.close("answered")
        transport.write(b" and more")  # ignored: closing

    protocol = Recorder(answer_and_close)
    side = make_side(protocol)
    side.send(b"hello")
    assert protocol.events == [("data", b"hello"), ("callback over", True), ("lost", "answered")]
    assert side.received() == b"bye"
    assert side.transport.state is IOState.CLOSED


def test_a_lingering_close_drops_what_the_peer_still_sends_until_its_end(make_side: Callable[[Recorder], Side]) -> None:
    protocol = Recorder(lambda transport: transport.close("refused", linger=True))
    side = make_side(protocol)
    side.send(b"request")
    assert side.transport.state is IOState.LINGERING
    side.send(b"the rest of it")
    assert protocol.events == [("data", b"request"), ("callback over", True)], "dropped, and nothing lost yet"
    side.end()
    assert side.transport.state is IOState.CLOSED
    assert protocol.events[-1] == ("lost", "refused")


def test_the_peers_end_is_told_then_the_connection_closes(make_side: Callable[[Recorder], Side]) -> None:
    protocol = Recorder()
    side = make_side(protocol)
    side.end()
    assert protocol.events == [("eof",), ("lost", "closed")]
    assert side.transport.state is IOState.CLOSED


def test_abort_closes_at_once(make_side: Callable[[Recorder], Side]) -> None:
    protocol = Recorder(lambda transport: transport.abort("cut"))
    side = make_side(protocol)
    side.send(b"x")
    assert protocol.events[:2] == [("data", b"x"), ("lost", "cut")]
    assert side.transport.state is IOState.CLOSED


def test_deferred_calls_run_right_after_the_callback_and_call_soon_ones_from_the_loop(
    make_side: Callable[[Recorder], Side],
) -> None:
    order: list[str] = []

    def schedule(transport: TransportInterface) -> None:
        transport.call_soon(order.append, "soon")
        transport.defer(order.append, "deferred")
        order.append("callback")

    side = make_side(Recorder(schedule))
    side.send(b"x")
    assert order[:2] == ["callback", "deferred"]
    tick(side.loop)
    assert order == ["callback", "deferred", "soon"]
    side.transport.defer(order.append, "now")
    assert order[-1] == "now", "outside a callback, defer runs at once"


def test_nothing_is_called_back_once_closed(make_side: Callable[[Recorder], Side]) -> None:
    order: list[str] = []
    side = make_side(Recorder())
    side.transport.call_soon(order.append, "soon")
    side.transport.when_drained(order.append, "drained")
    side.transport.abort("gone")
    side.transport.defer(order.append, "deferred")
    tick(side.loop)
    assert order == []


def test_reading_pauses_and_resumes(make_side: Callable[[Recorder], Side]) -> None:
    side = make_side(Recorder())
    side.transport.pause_reading()
    assert side.transport.state is IOState.WAITING
    side.transport.resume_reading(Timeout.HEADER_TIMEOUT)
    assert side.transport.state is IOState.READING


def test_what_is_written_is_sent_and_counted(make_side: Callable[[Recorder], Side]) -> None:
    side = make_side(Recorder())
    side.transport.write(b"abc")
    told: list[int] = []
    side.transport.when_sent(told.append)
    assert side.received() == b"abc"
    assert (side.transport.sent, side.transport.written, side.transport.queued, told) == (3, 3, 0, [3])
