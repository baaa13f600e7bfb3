"""The listener under descriptor exhaustion: it pauses instead of spinning, logs once, and resumes."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Iterator

import pytest

from reactor.loop.eventloop import EventLoop
from reactor.net.datagram import bind_datagram
from reactor.net.listener import Listener, bind, reserve
from reactor.testing import FakeClock, tick


class ExhaustedSocket(socket.socket):
    """A real listening socket whose accept() fails with ``error`` while it is set, except for the
    next ``allowed`` calls."""

    error: int | None = None
    allowed = 0

    def accept(self) -> tuple[socket.socket, object]:
        if self.error is not None:
            if not self.allowed:
                raise OSError(self.error, errno.errorcode[self.error])
            self.allowed -= 1
        return super().accept()


class Rig:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.loop = EventLoop(clock=self.clock)
        self.sock = ExhaustedSocket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.accepted: list[socket.socket] = []
        self.listener = Listener(self.loop, self.sock, self.on_accept, batch=8, backoff=0.5)
        self.listener.start()
        self.clients: list[socket.socket] = []

    def on_accept(self, sock: socket.socket, address: tuple[str, int]) -> None:
        self.accepted.append(sock)

    def connect(self) -> None:
        self.clients.append(socket.create_connection(self.sock.getsockname()[:2]))

    def close(self) -> None:
        for sock in self.accepted + self.clients:
            sock.close()
        self.listener.close()
        self.loop.close()


@pytest.fixture
def rig() -> Iterator[Rig]:
    rig = Rig()
    yield rig
    rig.close()


@pytest.mark.parametrize("error", [errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM])
def test_exhaustion_pauses_accepting_logs_once_and_resumes(
    rig: Rig, error: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="reactor.net.listener")
    rig.connect()
    rig.sock.error = error
    tick(rig.loop)
    assert rig.listener.exhaustion_pauses == 1
    # Paused: the listener is out of the selector, so the pending connection cannot wake the loop,
    # and the loop sleeps until the backoff ends instead of spinning on a readable socket.
    assert rig.loop.select_timeout() == pytest.approx(0.5)
    for _ in range(5):
        rig.clock.advance(0.5)
        tick(rig.loop)  # the backoff ends: one accept, which fails again
        tick(rig.loop)
    assert rig.listener.exhaustion_pauses == 6, "one accept attempt per backoff period, no more"
    assert len([r for r in caplog.records if "accept failed" in r.message]) == 1, "logged once per episode"
    rig.sock.error = None
    rig.clock.advance(0.5)
    tick(rig.loop)
    tick(rig.loop)
    assert len(rig.accepted) == 1, "the waiting connection is accepted once descriptors are back"


def test_a_new_episode_is_logged_again(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="reactor.net.listener")
    for _ in range(2):
        rig.connect()
        rig.sock.error = errno.EMFILE
        tick(rig.loop)
        rig.sock.error = None
        rig.clock.advance(0.5)
        tick(rig.loop)
        tick(rig.loop)
    assert len(rig.accepted) == 2
    assert len([r for r in caplog.records if "accept failed" in r.message]) == 2


def test_a_connection_that_died_in_the_backlog_is_skipped(rig: Rig) -> None:
    rig.connect()
    rig.sock.error = errno.ECONNABORTED
    tick(rig.loop)
    assert rig.listener.exhaustion_pauses == 0
    rig.sock.error = None
    tick(rig.loop)
    assert len(rig.accepted) == 1


def test_at_the_connection_limit_the_listener_leaves_the_selector(rig: Rig) -> None:
    rig.listener.set_at_limit(True)
    rig.connect()
    tick(rig.loop)
    assert rig.accepted == []
    rig.listener.set_at_limit(False)
    tick(rig.loop)
    assert len(rig.accepted) == 1


def test_an_unexpected_accept_error_pauses_too_with_its_traceback(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="reactor.net.listener")
    rig.connect()
    rig.sock.error = errno.EINVAL
    for _ in range(3):
        tick(rig.loop)
        rig.clock.advance(0.5)
    assert rig.listener.exhaustion_pauses == 2, "paused, not spinning"
    [record] = [r for r in caplog.records if "accept failed" in r.message]
    assert record.exc_info is not None


def test_an_episode_lasts_until_the_backlog_is_empty(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    # Under a sustained burst each freed descriptor lets one accept succeed before EMFILE again:
    # that is still the same episode, worth one line, not one per freed slot.
    caplog.set_level(logging.WARNING, logger="reactor.net.listener")
    for _ in range(3):
        rig.connect()
    rig.sock.error = errno.EMFILE
    tick(rig.loop)
    for _ in range(2):
        rig.sock.allowed = 1  # a descriptor freed: one accept succeeds, the next fails
        rig.clock.advance(0.5)
        tick(rig.loop)
        tick(rig.loop)
    assert len(rig.accepted) == 2
    assert len([r for r in caplog.records if "accept failed" in r.message]) == 1


def test_one_readiness_event_accepts_one_batch_of_non_blocking_no_delay_sockets(rig: Rig) -> None:
    for _ in range(12):  # the rig's batch is 8
        rig.connect()
    tick(rig.loop)
    assert len(rig.accepted) == 8, "one readiness event, one batch: the other connections get their turn"
    tick(rig.loop)
    assert len(rig.accepted) == 12, "the listener is still readable: the rest on the next event"
    for sock in rig.accepted:
        assert not sock.getblocking()
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), "responses leave without Nagle's delay"


@pytest.mark.parametrize("port", [-1, 65536, 70000, 99999])
@pytest.mark.parametrize("bind_one", [bind, reserve, bind_datagram], ids=["bind", "reserve", "bind_datagram"])
def test_a_port_outside_0_to_65535_is_refused_not_wrapped(bind_one, port: int) -> None:
    # getaddrinfo takes the port modulo 65536 (70000 would bind 4464): the API refuses it instead.
    arguments = ("127.0.0.1", port, 16) if bind_one is bind else ("127.0.0.1", port)
    with pytest.raises(ValueError, match=f"port {port} is not between 0 and 65535"):
        bind_one(*arguments)
