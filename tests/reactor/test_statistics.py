"""statistics() of the loop and of the server (issue 8): each number says what happened, and a snapshot
stays as it was taken, whatever the loop does next. A real server on loopback, driven by a fake clock."""

from __future__ import annotations

import dataclasses
import selectors
import socket
from collections.abc import Callable, Iterator

import pytest

from reactor.exchange import Exchange
from reactor.limits import Limits
from reactor.loop.eventloop import EVENT_READ, EventLoop
from reactor.net.listener import bind
from reactor.server import Server
from reactor.testing import FakeClock, tick

GET = b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
BIG = 4 << 20


class PassingSelector(selectors.DefaultSelector):
    """The machine's selector under a fake clock: a select that finds nothing ready lets the clock
    pass by its timeout instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = super().select(0)
        if not events and timeout:
            self.clock.advance(timeout)
        return events


def test_the_loop_counts_its_waiting_and_its_work_apart() -> None:
    clock = FakeClock()
    loop = EventLoop(clock=clock, selector=PassingSelector(clock))
    try:
        loop.call_later(2.0, clock.advance, 0.25)  # a timer whose callback takes a quarter second
        loop.run_once()
        statistics = loop.statistics()
        assert (statistics.select_seconds, statistics.busy_seconds) == (2.0, 0.25)
        assert (statistics.iterations, statistics.callbacks, statistics.timers, statistics.ready) == (1, 1, 0, 0)
    finally:
        loop.close()


def test_the_loop_counts_descriptors_their_events_and_callbacks_left_for_the_next_pass() -> None:
    loop = EventLoop(clock=FakeClock())
    ours, peer = socket.socketpair()
    try:
        seen: list[str] = []
        loop.register(ours, EVENT_READ, lambda: seen.append("read"), None)
        loop.call_soon(loop.call_soon, seen.append, "later")
        peer.send(b"x")
        loop.run_once()
        statistics = loop.statistics()
        assert statistics.registered == 2, "ours and the loop's wakeup socket"
        assert (statistics.io_events, statistics.callbacks, statistics.ready) == (1, 1, 1)
        assert seen == ["read"], "the later one was scheduled by a callback of this pass: the next one runs it"
        loop.unregister(ours)
        assert loop.statistics().registered == 1
    finally:
        ours.close()
        peer.close()
        loop.close()


class Rig:
    """A server answering ``hello`` (or BIG bytes at /big) on loopback, ticked by a fake clock."""

    def __init__(self) -> None:
        self.loop = EventLoop(clock=FakeClock())
        self.server = Server(self.loop, [bind("127.0.0.1", 0, 16)], self.handle, Limits())
        self.server.start()
        self.clients: list[socket.socket] = []

    @staticmethod
    def handle(exchange: Exchange) -> None:
        body = b"b" * BIG if exchange.request.path == "/big" else b"hello"
        exchange.respond(200, [("Content-Type", "text/plain")], body)

    def connect(self, receive_buffer: int | None = None) -> socket.socket:
        client = socket.socket()
        if receive_buffer is not None:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        client.connect(self.server.addresses[0])
        client.setblocking(False)
        self.clients.append(client)
        return client

    def tick_until(self, predicate: Callable[[], bool]) -> None:
        for _ in range(200):
            if predicate():
                return
            tick(self.loop)
        raise AssertionError("the server never got there")

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.server.close()
        self.loop.close()


@pytest.fixture
def rig() -> Iterator[Rig]:
    made = Rig()
    yield made
    made.close()


def received(client: socket.socket) -> bytes:
    try:
        return client.recv(1 << 20)
    except BlockingIOError:
        return b""


def test_the_server_counts_connections_requests_bytes_and_closes(rig: Rig) -> None:
    client = rig.connect()
    client.sendall(GET)
    answer = bytearray()

    def answered() -> bool:
        answer.extend(received(client))
        return answer.endswith(b"hello")

    rig.tick_until(answered)
    statistics = rig.server.statistics()
    assert (statistics.accepted, statistics.connections, statistics.requests) == (1, 1, 1)
    assert statistics.by_state == {"reading": 1}, "waiting for its next request"
    assert (statistics.bytes_received, statistics.bytes_sent) == (len(GET), len(answer))
    assert (statistics.queued, statistics.largest_queue, statistics.closes) == (0, 0, {})
    client.close()
    rig.tick_until(lambda: rig.server.statistics().connections == 0)
    after = rig.server.statistics()
    assert (after.by_state, after.closes) == ({}, {"peer closed": 1})
    assert (statistics.by_state, statistics.closes) == ({"reading": 1}, {}), "the snapshot did not move"
    with pytest.raises(dataclasses.FrozenInstanceError):
        statistics.requests = 0  # type: ignore[misc]


def test_the_server_counts_what_waits_for_a_peer_that_does_not_read(rig: Rig) -> None:
    slow, quick = rig.connect(receive_buffer=4096), rig.connect()
    slow.sendall(GET.replace(b"/hello", b"/big"))
    quick.sendall(GET)
    rig.tick_until(lambda: rig.server.statistics().by_state == {"writing": 1, "reading": 1})
    statistics = rig.server.statistics()
    assert 0 < statistics.queued < BIG, "the kernel took some; the rest waits in our queue"
    assert statistics.largest_queue == statistics.queued, "all of it on one connection"
    assert statistics.loop.registered == 4, "two clients, the listener, the wakeup socket"
