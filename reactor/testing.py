"""Test doubles for the reactor: a clock that moves only when told, a socket that takes at most N bytes
per send, and a transport that only records (Twisted's StringTransport), so short sends, timeouts and
protocols are tested without sleeping or a network."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

from reactor.loop.eventloop import EventLoop
from reactor.net.iostate import IOState, Timeout
from reactor.net.transport import Counters, Protocol, TransportInterface


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


class FakeTransport:
    """Stands in for a Transport under a protocol: what the protocol writes lands in ``output`` (file
    ranges read out), what it asks for is recorded, and the test plays the peer with ``receive``,
    ``receive_eof`` and ``time_out``. Nothing is ever queued: the peer takes every byte at once. It
    satisfies transport.TransportInterface (mypy checks it in ``attach``), and its states move as a
    Transport's do with an empty queue: a close asked inside a protocol callback takes effect after
    it, then the connection lingers (``close(linger=True)``: what the peer still sends is dropped
    until its end or the linger timeout) or is closed, and ``connection_lost`` is called once."""

    def __init__(self, loop: EventLoop, address: tuple[str, int] = ("127.0.0.1", 40000)) -> None:
        self.loop = loop
        self.address = address
        self.server_address = ("127.0.0.1", 8000)
        self.id = 1
        self.counters = Counters()
        self.trace: Callable[[str, str], None] | None = None
        self.state = IOState.READING
        self.close_reason = ""
        self.read_timeout = Timeout.NO_TIMEOUT  # what resume_reading last asked for
        self.output = bytearray()
        self.sent = 0  # the peer takes every byte at once: all that is written is sent
        self.queued = 0
        self.eof_written = False  # write_eof was asked: the peer has this side's end of stream
        self.protocol: Protocol | None = None
        self._close_asked = False
        self._linger = False  # close(linger=True) was asked
        self._running = False  # a protocol callback runs: what it defers runs after it
        self._deferred: list[tuple[Callable[..., object], tuple[Any, ...]]] = []

    def summary(self) -> str:
        return f"#{self.id} fake {self.address[0]}:{self.address[1]} {self.state.value} queued=0"

    def attach(self, protocol: Protocol) -> None:
        """Play the accept: ``protocol.connection_made(self)``."""
        self.protocol = protocol
        transport: TransportInterface = self
        self._run(protocol.connection_made, transport)

    @property
    def closing(self) -> bool:
        return self._close_asked or (self.state is not IOState.READING and self.state is not IOState.WAITING)

    @property
    def reading(self) -> bool:
        return self.state is IOState.READING and not self._close_asked

    # -- the peer ---------------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """The peer's bytes: to the protocol while it reads, dropped while the connection lingers."""
        if self.state is IOState.LINGERING:
            return
        assert self.protocol is not None and self.reading, "the protocol is not reading"
        self._run(self.protocol.data_received, data)

    def receive_eof(self) -> None:
        if self.state is IOState.LINGERING:
            self._closed(self.close_reason)
            return
        assert self.protocol is not None and self.reading, "the protocol is not reading"
        if not self._run(self.protocol.eof_received):
            self.close()

    def time_out(self) -> None:
        """The read timeout the protocol asked for runs out (or, lingering, the linger timeout)."""
        if self.state is IOState.LINGERING:
            self._closed("linger timeout")
            return
        assert self.protocol is not None and self.reading and self.read_timeout is not Timeout.NO_TIMEOUT
        self._run(self.protocol.timed_out, self.read_timeout)

    def _run(self, callback: Callable[..., Any], *args: Any) -> Any:
        """A protocol callback, then what it deferred, then the close it asked for (as Transport
        runs them)."""
        if self._running:
            return callback(*args)
        self._running = True
        try:
            result = callback(*args)
            while self._deferred and self.state is not IOState.CLOSED:
                deferred, deferred_args = self._deferred.pop(0)
                deferred(*deferred_args)
        finally:
            self._running = False
            self._deferred.clear()
        self._settle()
        return result

    def _settle(self) -> None:
        """A close asked for, once no callback runs: nothing is queued, so straight on to lingering or
        closed."""
        if self._close_asked and self.state is not IOState.LINGERING and self.state is not IOState.CLOSED:
            if self._linger:
                self.state = IOState.LINGERING
            else:
                self._closed(self.close_reason)

    def _closed(self, reason: str) -> None:
        if self.state is IOState.CLOSED:
            return
        self.state = IOState.CLOSED
        self.close_reason = reason
        self._deferred.clear()
        if self.protocol is not None:
            self.protocol.connection_lost(reason)

    def take(self) -> bytes:
        """What was written since the last take."""
        data = bytes(self.output)
        self.output.clear()
        return data

    # -- what the protocol calls ------------------------------------------------------------------

    @property
    def written(self) -> int:
        return self.sent

    def write(self, data: bytes) -> None:
        if not self.closing:
            self.output += data
            self.sent += len(data)

    def send_now(self, data: bytes) -> None:
        self.write(data)

    def write_file(self, file: BinaryIO, offset: int, count: int, owns_file: bool) -> None:
        if not self.closing:
            self.output += os.pread(file.fileno(), count, offset)
            self.sent += count
        if owns_file:
            file.close()

    def write_eof(self) -> None:
        if not self.closing:
            self.eof_written = True

    def pause_reading(self) -> None:
        if not self.closing:
            self.state = IOState.WAITING

    def resume_reading(self, timeout: Timeout = Timeout.NO_TIMEOUT) -> None:
        if not self.closing:
            self.state = IOState.READING
            self.read_timeout = timeout

    def defer(self, callback: Callable[..., object], *args: Any) -> None:
        if self.state is IOState.CLOSED:
            return
        if self._running:
            self._deferred.append((callback, args))
        else:
            self._run(callback, *args)

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        self.loop.call_soon(self.defer, callback, *args)

    def when_sent(self, callback: Callable[..., object], *args: Any) -> None:
        callback(self.sent, *args)  # nothing is ever queued

    def when_drained(self, callback: Callable[..., object], *args: Any) -> None:
        if self.state is not IOState.CLOSED:
            self.call_soon(callback, *args)  # nothing is ever queued

    def close(self, reason: str = "closed", *, linger: bool = False) -> None:
        if self.closing:
            return
        self.close_reason = reason
        self._close_asked = True
        self._linger = linger
        if not self._running:
            self._settle()

    def abort(self, reason: str = "aborted") -> None:
        self._closed(reason)


def _nothing() -> None:
    pass


def tick(loop: EventLoop) -> None:
    """One loop iteration that never waits in select: runs what is due at the fake clock's time."""
    loop.call_soon(_nothing)
    loop.run_once()


def read_available(sock: socket.socket) -> bytes:
    """Everything a non-blocking socket has to read now (b"" for nothing, or once the peer has ended)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk
