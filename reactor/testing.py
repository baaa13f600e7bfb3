"""Test doubles for the reactor: a clock that moves only when told, and a socket that takes at most
N bytes per send, so short sends and timeouts are tested without sleeping or a network."""

from __future__ import annotations

from collections.abc import Iterable

from reactor.loop import EventLoop


class FakeClock:
    """A monotonic clock for EventLoop(clock=...); ``advance`` moves it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeSocket:
    """Records what is sent. Each send takes at most ``max_send`` bytes (None: everything); with
    ``blocked`` set, sends raise BlockingIOError as a full kernel buffer would."""

    def __init__(self, max_send: int | None = None) -> None:
        self.max_send = max_send
        self.blocked = False
        self.sent = bytearray()
        self.calls = 0

    def send(self, data: bytes | memoryview) -> int:
        self.calls += 1
        if self.blocked:
            raise BlockingIOError
        count = len(data) if self.max_send is None else min(len(data), self.max_send)
        self.sent += data[:count]
        return count

    def sendmsg(self, buffers: Iterable[bytes | memoryview]) -> int:
        return self.send(b"".join(buffers))


def _nothing() -> None:
    pass


def tick(loop: EventLoop) -> None:
    """One loop iteration that never waits in select: runs what is due at the fake clock's time."""
    loop.call_soon(_nothing)
    loop.run_once()
