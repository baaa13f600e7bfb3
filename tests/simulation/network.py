"""A simulated network for the real reactor: server-side sockets whose every recv, send and sendfile
is decided by a seeded random source, and a selector that reports their readiness exactly.

One ``SimSocket`` is the server's end of one connection. ``inbound`` holds what the peer sent that the
server has not read (the kernel's receive queue); ``outbound`` what the server sent that the peer has
not read (both kernels' buffers together, ``capacity`` bytes at most). The peer model (peer.py) moves
bytes in and out of them; the reactor sees only the socket calls a real socket has.
"""

from __future__ import annotations

import errno
import os
import random
import selectors
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reactor.clock import Clock

EVENT_READ = selectors.EVENT_READ
EVENT_WRITE = selectors.EVENT_WRITE
FIRST_FD = 1000  # far above the process's real descriptors, so the two never meet in one map


@dataclass(frozen=True)
class Faults:
    """How one run's network misbehaves, drawn from its seed."""

    max_recv: int  # a recv returns 1..max_recv bytes
    eagain: float  # chance that a send finds the buffer full (0 bytes, EAGAIN)
    short: float  # chance that a send takes fewer bytes than offered (and than there is room for)
    capacity: int  # bytes in flight towards the peer before sends block
    spurious: float  # chance that select reports a watched socket ready when it is not

    @classmethod
    def clean(cls) -> Faults:
        """A network that takes and delivers everything at once: the reference runs."""
        return cls(max_recv=1 << 30, eagain=0.0, short=0.0, capacity=1 << 30, spurious=0.0)


class SimSocket:
    """The server's end of a simulated TCP connection: the calls the Transport makes on a socket."""

    def __init__(self, fd: int, faults: Faults, rng: random.Random, clock: Clock) -> None:
        self.fd = fd
        self.faults = faults
        self.rng = rng
        self.clock = clock
        self.last_sent = clock()  # when a send last moved bytes (the accept counts as one)
        self.inbound = bytearray()
        self.outbound = bytearray()
        self.peer_eof = False  # the peer shut down its sending side
        self.reset = False  # the peer reset the connection
        self.write_shut = False  # the server shut down its sending side
        self.closed = False
        self.recv_calls = 0
        self.send_calls = 0

    def __repr__(self) -> str:
        return f"<SimSocket fd={self.fd} in={len(self.inbound)} out={len(self.outbound)}>"

    # -- what the reactor calls -------------------------------------------------------------------

    def fileno(self) -> int:
        return -1 if self.closed else self.fd

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8000)

    def recv(self, size: int) -> bytes:
        self._check_open()
        self.recv_calls += 1
        if self.reset:
            raise ConnectionResetError(errno.ECONNRESET, "simulated reset")
        if self.inbound:
            count = min(size, len(self.inbound), self.rng.randint(1, self.faults.max_recv))
            data = bytes(self.inbound[:count])
            del self.inbound[:count]
            return data
        if self.peer_eof:
            return b""
        raise BlockingIOError(errno.EAGAIN, "simulated: nothing to read")

    def send(self, data: bytes | memoryview) -> int:
        count = self.accepts(len(data))
        self.outbound += data[:count]
        return count

    def sendmsg(self, buffers: Iterable[bytes | memoryview]) -> int:
        return self.send(b"".join(buffers))

    def shutdown(self, how: int) -> None:
        self._check_open()
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            self.write_shut = True

    def close(self) -> None:
        self.closed = True

    # -- the model --------------------------------------------------------------------------------

    def accepts(self, offered: int) -> int:
        """How many of ``offered`` bytes a send takes now. Raises as a real socket would."""
        self._check_open()
        self.send_calls += 1
        if self.reset:
            raise ConnectionResetError(errno.ECONNRESET, "simulated reset")
        if self.write_shut:
            raise BrokenPipeError(errno.EPIPE, "simulated: sending side shut down")
        room = self.faults.capacity - len(self.outbound)
        if room <= 0 or self.rng.random() < self.faults.eagain:
            raise BlockingIOError(errno.EAGAIN, "simulated: send buffer full")
        count = min(offered, room)
        if count > 1 and self.rng.random() < self.faults.short:
            count = self.rng.randint(1, count - 1)
        self.last_sent = self.clock()
        return count

    def readiness(self) -> int:
        """The events a level-triggered selector reports for this socket now."""
        if self.closed:
            return 0
        if self.reset:
            return EVENT_READ | EVENT_WRITE
        events = EVENT_READ if self.inbound or self.peer_eof else 0
        if self.write_shut or len(self.outbound) < self.faults.capacity:
            events |= EVENT_WRITE
        return events

    def _check_open(self) -> None:
        if self.closed:
            raise OSError(errno.EBADF, "simulated: socket used after close")


class SimNetwork:
    """The simulated sockets of one run, by descriptor, and the sendfile that writes into them."""

    def __init__(self, faults: Faults, rng: random.Random, clock: Clock) -> None:
        self.faults = faults
        self.rng = rng
        self.clock = clock
        self.sockets: dict[int, SimSocket] = {}

    def socket(self) -> SimSocket:
        sock = SimSocket(FIRST_FD + len(self.sockets), self.faults, self.rng, self.clock)
        self.sockets[sock.fd] = sock
        return sock

    def sendfile(self, out_fd: int, in_fd: int, offset: int, count: int) -> int:
        """os.sendfile onto a simulated socket: the file's bytes are really read (pread)."""
        sock = self.sockets[out_fd]
        data = os.pread(in_fd, sock.accepts(count), offset)
        sock.outbound += data
        return len(data)


class SimSelector(selectors.BaseSelector):
    """A selector over simulated sockets that never waits: ``select`` reports what is ready now, in
    registration order, and with ``faults.spurious`` a socket that is not (as epoll may after a
    reset, or any selector after another thread's read). Real file objects (the loop's wakeup
    socket) may be registered and are never ready: nothing in a simulation calls the loop from
    another thread."""

    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self._keys: dict[int, selectors.SelectorKey] = {}
        self._spurious = faults.spurious
        self._rng = rng

    def _fd(self, fileobj: Any) -> int:
        if isinstance(fileobj, int):
            return fileobj
        fd = int(fileobj.fileno())
        if fd < 0:  # closed already: find it by identity, as selectors' own _fileobj_lookup does
            for key in self._keys.values():
                if key.fileobj is fileobj:
                    return key.fd
            raise KeyError(f"{fileobj!r} is not registered")
        return fd

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        if not events or events & ~(EVENT_READ | EVENT_WRITE):
            raise ValueError(f"invalid events: {events!r}")
        fd = self._fd(fileobj)
        if fd in self._keys:
            raise KeyError(f"{fileobj!r} (fd {fd}) is already registered")
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._keys.pop(self._fd(fileobj))

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        if not events or events & ~(EVENT_READ | EVENT_WRITE):
            raise ValueError(f"invalid events: {events!r}")
        fd = self._fd(fileobj)
        if fd not in self._keys:
            raise KeyError(f"{fileobj!r} is not registered")
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        return key

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._keys[self._fd(fileobj)]

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = []
        for key in self._keys.values():
            if isinstance(key.fileobj, SimSocket):
                events = key.fileobj.readiness() & key.events
                if not events and self._spurious and self._rng.random() < self._spurious:
                    events = key.events
                if events:
                    ready.append((key, events))
        return ready

    def has_ready(self) -> bool:
        return any(
            isinstance(key.fileobj, SimSocket) and key.fileobj.readiness() & key.events for key in self._keys.values()
        )

    def events_of(self, sock: SimSocket) -> int:
        """The events ``sock`` is registered for, 0 when it is not."""
        key = self._keys.get(sock.fd)
        return key.events if key is not None and key.fileobj is sock else 0

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return dict(self._keys)

    def close(self) -> None:
        self._keys.clear()
