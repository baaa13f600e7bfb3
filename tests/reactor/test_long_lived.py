"""Long-lived responses (Exchange.mark_long_lived, what an event stream says of itself): no timeout is
held against an idle one, a graceful shutdown ends them at once while it waits for ordinary responses,
and the server's statistics count them. A real server on loopback, driven by a fake clock."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator

import pytest

from reactor.exchange import Exchange
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.listener import bind
from reactor.server import Server
from reactor.testing import FakeClock, tick

STREAM = b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"
SLOW = b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"


class Rig:
    """A server whose handler opens a long-lived stream at /stream and leaves /slow unanswered; its
    clients are read without blocking between ticks of the fake clock's loop."""

    def __init__(self, **limits: float) -> None:
        self.clock = FakeClock()
        self.loop = EventLoop(clock=self.clock)
        self.limits = dataclasses.replace(Limits(), **limits)  # type: ignore[arg-type]
        self.exchanges: dict[str, Exchange] = {}
        self.server = Server(self.loop, [bind("127.0.0.1", 0, 16)], self.handle, self.limits)
        self.server.start()
        self.clients: list[socket.socket] = []

    def handle(self, exchange: Exchange) -> None:
        self.exchanges[exchange.request.path] = exchange
        if exchange.request.path == "/stream":
            exchange.start_response(200, [("Content-Type", "text/event-stream")])
            exchange.mark_long_lived()
            exchange.write(b"retry: 1000\n\n")

    def connect(self, request: bytes) -> socket.socket:
        client = socket.create_connection(self.server.addresses[0])
        client.setblocking(False)
        client.sendall(request)
        self.clients.append(client)
        for _ in range(100):
            tick(self.loop)
            if request.split()[1].decode() in self.exchanges:
                return client
        raise AssertionError("the request never reached the handler")

    def received(self, client: socket.socket) -> bytes:
        """What arrived since the last look; raises EOFError once the server has closed."""
        data = b""
        while True:
            try:
                chunk = client.recv(65536)
            except BlockingIOError:
                return data
            if not chunk:
                if data:
                    return data
                raise EOFError
            data += chunk

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.server.close()
        self.loop.close()


@pytest.fixture
def rig() -> Iterator[Rig]:
    rig = Rig(keepalive_timeout=1, send_timeout=1, header_timeout=1, body_timeout=1)
    yield rig
    rig.close()


def test_an_idle_stream_outlives_every_timeout_and_still_delivers(rig: Rig) -> None:
    client = rig.connect(STREAM)
    assert rig.received(client).endswith(b"retry: 1000\n\n\r\n")
    for _ in range(10):  # a hundred times the keep-alive, header and send timeouts
        rig.clock.advance(10)
        tick(rig.loop)
    assert rig.server.statistics().connections == 1
    rig.exchanges["/stream"].write(b"event: reload\ndata: x\n\n")
    tick(rig.loop)
    assert rig.received(client).endswith(b"event: reload\ndata: x\n\n\r\n")


def test_the_statistics_count_open_streams_and_not_other_connections(rig: Rig) -> None:
    rig.connect(STREAM)
    rig.connect(SLOW)
    statistics = rig.server.statistics()
    assert statistics.connections == 2 and statistics.streams == 1
    rig.exchanges["/stream"].end()
    tick(rig.loop)
    assert rig.server.statistics().streams == 0


def test_a_graceful_shutdown_ends_streams_at_once_and_waits_for_other_responses(rig: Rig) -> None:
    stream = rig.connect(STREAM)
    slow = rig.connect(SLOW)
    rig.received(stream)
    stopped: list[bool] = []
    rig.server.shutdown(grace=30, on_stopped=lambda: stopped.append(True))
    tick(rig.loop)
    # The stream got the end of its chunked body, then the close, without lingering for the client's
    # next request (it reads the end before it sends one): no time had to pass, nothing from the client.
    assert rig.received(stream) == b"0\r\n\r\n"
    with pytest.raises(EOFError):
        rig.received(stream)
    assert not stopped and rig.server.statistics().connections == 1  # the ordinary response is awaited
    rig.exchanges["/slow"].respond(200, [("Content-Type", "text/plain")], b"done")
    tick(rig.loop)
    assert rig.received(slow).endswith(b"\r\n\r\ndone")
    slow.close()
    tick(rig.loop)
    assert stopped == [True]
