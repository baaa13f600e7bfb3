"""Outgoing connections: a non-blocking connect on the loop, to real listeners on loopback, with the
outcome told once and never inside the call that started it; the timeout on a fake clock."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from reactor.loop.eventloop import EventLoop
from reactor.net.connector import Address, Connecting, describe
from reactor.testing import FakeClock, tick


class Outcome:
    def __init__(self) -> None:
        self.connected: list[tuple[socket.socket, Address]] = []
        self.failed: list[tuple[str, bool]] = []

    def on_connected(self, sock: socket.socket, address: Address) -> None:
        self.connected.append((sock, address))

    def on_failed(self, reason: str, timed_out: bool) -> None:
        self.failed.append((reason, timed_out))

    @property
    def told(self) -> int:
        return len(self.connected) + len(self.failed)


@pytest.fixture
def loop() -> Iterator[EventLoop]:
    loop = EventLoop(clock=FakeClock())
    yield loop
    loop.close()


def run_until_told(loop: EventLoop, outcome: Outcome) -> None:
    """Run the loop until the outcome is told (a loopback connect needs a pass or two)."""
    for _ in range(100):
        if outcome.told:
            return
        loop.run_once()
    raise AssertionError("never told")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def v4(port: int) -> Address:
    return (socket.AF_INET, ("127.0.0.1", port))


def test_a_connect_hands_over_a_connected_non_blocking_socket(loop: EventLoop) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        outcome = Outcome()
        Connecting(loop, [v4(listener.getsockname()[1])], 5, outcome.on_connected, outcome.on_failed)
        assert outcome.told == 0, "never told inside the call that started it"
        run_until_told(loop, outcome)
        ((sock, address),) = outcome.connected
        with sock:
            assert address == v4(listener.getsockname()[1])
            assert sock.getblocking() is False
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            peer, _ = listener.accept()
            with peer:
                sock.send(b"ping")
                assert peer.recv(4) == b"ping"
    assert loop.statistics().registered == 1, "only the loop's own wakeup socket is left registered"


def test_a_refusal_is_told_with_the_address_and_the_reason(loop: EventLoop) -> None:
    outcome = Outcome()
    port = free_port()
    Connecting(loop, [v4(port)], 5, outcome.on_connected, outcome.on_failed)
    run_until_told(loop, outcome)
    assert outcome.failed == [(f"127.0.0.1:{port}: Connection refused", False)]
    assert loop.statistics().registered == 1


def test_the_next_address_is_tried_when_one_refuses(loop: EventLoop) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        outcome = Outcome()
        good = v4(listener.getsockname()[1])
        Connecting(loop, [v4(free_port()), good], 5, outcome.on_connected, outcome.on_failed)
        run_until_told(loop, outcome)
        ((sock, address),) = outcome.connected
        sock.close()
        assert address == good


def test_a_handshake_nobody_answers_times_out_and_leaves_nothing_behind(loop: EventLoop) -> None:
    # A full backlog: Linux takes one connection more than a backlog of 0 says, then drops handshakes.
    clock = loop.time
    assert isinstance(clock, FakeClock)
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        filler = [socket.socket() for _ in range(2)]
        for sock in filler:
            sock.setblocking(False)
            sock.connect_ex(listener.getsockname())
        outcome = Outcome()
        Connecting(loop, [v4(listener.getsockname()[1])], 5, outcome.on_connected, outcome.on_failed)
        tick(loop)
        clock.advance(4.9)
        tick(loop)
        assert outcome.told == 0
        clock.advance(0.2)
        tick(loop)
        assert outcome.failed == [("no connection within the timeout", True)]
        assert loop.statistics().registered == 1
        for sock in filler:
            sock.close()


def test_cancel_tells_nobody(loop: EventLoop) -> None:
    outcome = Outcome()
    connecting = Connecting(loop, [v4(free_port())], 5, outcome.on_connected, outcome.on_failed)
    connecting.cancel()
    for _ in range(20):
        tick(loop)
    assert outcome.told == 0
    assert loop.statistics().registered == 1


def test_addresses_are_named_as_urls_name_them() -> None:
    assert describe(v4(80)) == "127.0.0.1:80"
    assert describe((socket.AF_INET6, ("::1", 8080, 0, 0))) == "[::1]:8080"
