"""A simulated network for the real reactor: a listening socket and server-side sockets whose every
accept, recv, send and sendfile is decided by a seeded random source, and a selector that reports
their readiness exactly.

One ``SimSocket`` is the server's end of one connection. ``inbound`` holds what the peer sent that the
server has not read (the kernel's receive queue); ``outbound`` what the server sent that the peer has
not read (both kernels' buffers together, ``capacity`` bytes at most). The peer model (peer.py) moves
bytes in and out of them; the reactor sees only the socket calls a real socket has. A peer connects
by joining the ``SimListener``'s backlog, where it waits (and may already send) until the server
accepts it; an accept fails with EMFILE while the simulated process has no descriptor left, and with
ENFILE at random, as the faults say.
"""

from __future__ import annotations

import collections
import errno
import os
import random
import selectors
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reactor.loop.clock import Clock

EVENT_READ = selectors.EVENT_READ
EVENT_WRITE = selectors.EVENT_WRITE
FIRST_FD = 1000  # far above the process's real descriptors, so the two never meet in one map
LISTENER_FD = FIRST_FD - 1
# A socket select reports ready this many times in a row without any progress on it: the loop spins.
SPINNING = 200


@dataclass(frozen=True)
class Faults:
    """How one run's network misbehaves, drawn from its seed."""

    max_recv: int  # a recv returns 1..max_recv bytes
    eagain: float  # chance that a send finds the buffer full (0 bytes, EAGAIN)
    short: float  # chance that a send takes fewer bytes than offered (and than there is room for)
    capacity: int  # bytes in flight towards the peer before sends block
    spurious: float  # chance that select reports a watched socket ready when it is not
    descriptors: int = 1 << 20  # connections the process can hold open: an accept past them fails (EMFILE)
    enfile: float = 0.0  # chance that an accept fails for the system's file table (ENFILE)

    @classmethod
    def clean(cls) -> Faults:
        """A network that takes and delivers everything at once: the reference runs."""
        return cls(max_recv=1 << 30, eagain=0.0, short=0.0, capacity=1 << 30, spurious=0.0)


class SimFile:
    """What the simulated selector watches: a descriptor number, the events it is ready for now, and
    a count of the calls on it that did something (to tell a loop that spins from one that works)."""

    fd: int
    closed: bool
    progress: int

    def fileno(self) -> int:
        return -1 if self.closed else self.fd

    def readiness(self) -> int:
        raise NotImplementedError

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8000)

    def setblocking(self, flag: bool) -> None:
        pass  # always non-blocking

    def setsockopt(self, level: int, option: int, value: int) -> None:
        pass  # TCP_NODELAY: there is no Nagle here

    def _check_open(self) -> None:
        if self.closed:
            raise OSError(errno.EBADF, "simulated: socket used after close")


class SimSocket(SimFile):
    """The server's end of a simulated TCP connection: the calls the Transport makes on a socket."""

    def __init__(self, fd: int, faults: Faults, rng: random.Random, clock: Clock, port: int = 40000) -> None:
        self.fd = fd
        self.port = port  # the peer's
        self.faults = faults
        self.rng = rng
        self.clock = clock
        self.last_sent = clock()  # when a send last moved bytes (the accept counts as one)
        self.inbound = bytearray()
        self.outbound = bytearray()
        self.wire: bytearray | None = None  # everything the server sent, kept when a check reads it (TLS)
        self.peer_eof = False  # the peer shut down its sending side
        self.reset = False  # the peer reset the connection
        self.write_shut = False  # the server shut down its sending side
        self.closed = False
        self.recv_calls = 0
        self.send_calls = 0
        self.progress = 0
        self._eof_seen = False

    def __repr__(self) -> str:
        return f"<SimSocket fd={self.fd} in={len(self.inbound)} out={len(self.outbound)}>"

    # -- what the reactor calls -------------------------------------------------------------------

    def recv(self, size: int, flags: int = 0) -> bytes:
        self._check_open()
        self.recv_calls += 1
        if self.reset:
            raise ConnectionResetError(errno.ECONNRESET, "simulated reset")
        if self.inbound:
            if flags & socket.MSG_PEEK:
                return bytes(self.inbound[:size])
            count = min(size, len(self.inbound), self.rng.randint(1, self.faults.max_recv))
            data = bytes(self.inbound[:count])
            del self.inbound[:count]
            self.progress += 1
            return data
        if self.peer_eof:
            if not self._eof_seen:  # the end read once is progress; read again and again, a spin
                self._eof_seen = True
                self.progress += 1
            return b""
        raise BlockingIOError(errno.EAGAIN, "simulated: nothing to read")

    def send(self, data: bytes | memoryview) -> int:
        count = self.accepts(len(data))
        self.outbound += data[:count]
        if self.wire is not None:
            self.wire += data[:count]
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
        self.progress += 1
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


class SimListener(SimFile):
    """The server's listening socket. Connections wait in ``backlog`` until accepted; an accept fails
    with EMFILE while the network's open connections hold every descriptor the faults allow, with
    ENFILE at random, and with ECONNABORTED for a connection its peer reset while it waited (BSD's
    way: the listener skips it). ``exhaustions`` holds the time of each EMFILE and ENFILE;
    ``episodes`` counts their runs (each ends when an accept finds the backlog empty: docs/emfile.md
    wants one warning each); ``early_retries`` says when the backoff after one was not kept."""

    def __init__(self, network: SimNetwork, backoff: float) -> None:
        self.fd = LISTENER_FD
        self.network = network
        self.backoff = backoff
        self.backlog: collections.deque[SimSocket] = collections.deque()
        self.closed = False
        self.progress = 0
        self.accepts = 0
        self.exhaustions: list[float] = []
        self.episodes = 0
        self._in_episode = False
        self.early_retries: list[str] = []
        # Told of each connection still in the backlog when the listener closes: the kernel resets it.
        self.on_refused: Callable[[SimSocket], object] | None = None

    def __repr__(self) -> str:
        return f"<SimListener backlog={len(self.backlog)} accepts={self.accepts}>"

    def accept(self) -> tuple[SimSocket, tuple[str, int]]:
        self._check_open()
        network = self.network
        now = network.clock()
        if self.exhaustions and now - self.exhaustions[-1] < self.backoff - 1e-9:
            self.early_retries.append(
                f"accept retried {now - self.exhaustions[-1]:.3f} s after it failed for lack of descriptors "
                f"(backoff {self.backoff} s)"
            )
        if not self.backlog:
            self._in_episode = False
            raise BlockingIOError(errno.EAGAIN, "simulated: no connection waiting")
        if self.backlog[0].reset:
            self.backlog.popleft().closed = True
            self.progress += 1
            raise ConnectionAbortedError(errno.ECONNABORTED, "simulated: reset in the backlog")
        if network.open_connections() >= network.faults.descriptors:
            self._exhausted(now)
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        if network.faults.enfile and network.rng.random() < network.faults.enfile:
            self._exhausted(now)
            raise OSError(errno.ENFILE, os.strerror(errno.ENFILE))
        sock = self.backlog.popleft()
        sock.last_sent = now
        network.accepted.append(sock)
        self.accepts += 1
        self.progress += 1
        return sock, ("127.0.0.1", sock.port)

    def _exhausted(self, now: float) -> None:
        self.exhaustions.append(now)
        self.episodes += not self._in_episode
        self._in_episode = True

    def readiness(self) -> int:
        return EVENT_READ if self.backlog and not self.closed else 0

    def close(self) -> None:
        self.closed = True
        while self.backlog:
            sock = self.backlog.popleft()
            sock.closed = True
            if self.on_refused is not None:
                self.on_refused(sock)


class SimNetwork:
    """The simulated sockets of one run, by descriptor, and the sendfile that writes into them."""

    def __init__(self, faults: Faults, rng: random.Random, clock: Clock) -> None:
        self.faults = faults
        self.rng = rng
        self.clock = clock
        self.sockets: dict[int, SimSocket] = {}
        self.accepted: list[SimSocket] = []

    def socket(self, port: int = 40000) -> SimSocket:
        sock = SimSocket(FIRST_FD + len(self.sockets), self.faults, self.rng, self.clock, port)
        self.sockets[sock.fd] = sock
        return sock

    def open_connections(self) -> int:
        """Accepted sockets the server has not closed: the descriptors they hold."""
        return sum(1 for sock in self.accepted if not sock.closed)

    def sendfile(self, out_fd: int, in_fd: int, offset: int, count: int) -> int:
        """os.sendfile onto a simulated socket: the file's bytes are really read (pread)."""
        sock = self.sockets[out_fd]
        data = os.pread(in_fd, sock.accepts(count), offset)
        sock.outbound += data
        if sock.wire is not None:
            sock.wire += data
        return len(data)


class SimSelector(selectors.BaseSelector):
    """A selector over simulated sockets that never waits: ``select`` reports what is ready now, in
    registration order, and with ``faults.spurious`` a socket that is not (as epoll may after a
    reset, or any selector after another thread's read). Real file objects (the loop's wakeup
    socket) may be registered and are never ready: what the simulation's worker threads post runs
    because it is in the loop's ready queue. ``spinning`` names each socket reported ready SPINNING
    times in a row with nothing done on it in between: a loop that busy-waits."""

    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self._keys: dict[int, selectors.SelectorKey] = {}
        self._spurious = faults.spurious
        self._rng = rng
        self._fruitless: dict[int, tuple[int, int]] = {}  # fd -> (its progress when last reported, reports since)
        self.spinning: list[str] = []

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
        key = self._keys.pop(self._fd(fileobj))
        self._fruitless.pop(key.fd, None)
        return key

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
            fileobj = key.fileobj
            if isinstance(fileobj, SimFile):
                events = fileobj.readiness() & key.events
                if events:
                    self._count_report(key.fd, fileobj)
                elif self._spurious and self._rng.random() < self._spurious:
                    events = key.events
                if events:
                    ready.append((key, events))
        return ready

    def _count_report(self, fd: int, fileobj: SimFile) -> None:
        progress, reports = self._fruitless.get(fd, (-1, 0))
        reports = reports + 1 if progress == fileobj.progress else 0
        self._fruitless[fd] = (fileobj.progress, reports)
        if reports == SPINNING:
            self.spinning.append(f"{fileobj!r} reported ready {SPINNING} times in a row with nothing done on it")

    def has_ready(self) -> bool:
        return any(
            isinstance(key.fileobj, SimFile) and key.fileobj.readiness() & key.events for key in self._keys.values()
        )

    def events_of(self, fileobj: SimFile) -> int:
        """The events ``fileobj`` is registered for, 0 when it is not."""
        key = self._keys.get(fileobj.fd)
        return key.events if key is not None and key.fileobj is fileobj else 0

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return dict(self._keys)

    def close(self) -> None:
        self._keys.clear()
