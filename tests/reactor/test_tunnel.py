"""Two transports joined byte for byte (reactor/net/tunnel.py), each over a socketpair whose other end the
test plays, on a loop with a fake clock: bytes both ways, backpressure across, an end of stream passed
on as a half-close once what is queued has left, and the tunnel's end."""

from __future__ import annotations

import contextlib
import socket

from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.iostate import CLOSED, WAITING
from reactor.net.transport import Transport
from reactor.net.tunnel import TunnelEnd, join
from reactor.testing import FakeClock, tick


class Rig:
    """``left`` and ``right``: the sockets the test plays, at the two ends of one tunnel."""

    def __init__(self) -> None:
        self.loop = EventLoop(clock=FakeClock())
        self.limits = Limits()
        self.ends = [TunnelEnd(), TunnelEnd()]
        join(*self.ends)
        self.transports: list[Transport] = []
        self.peers: list[socket.socket] = []
        for index, end in enumerate(self.ends):
            peer, ours = socket.socketpair()
            peer.setblocking(False)
            ours.setblocking(False)
            self.peers.append(peer)
            transport = Transport(self.loop, ours, ("127.0.0.1", 40000 + index), end, self.limits, ident=index)
            self.transports.append(transport)
            transport.start()
        self.left, self.right = self.peers

    def tick(self, times: int = 5) -> None:
        for _ in range(times):
            tick(self.loop)

    @staticmethod
    def read(sock: socket.socket) -> bytes | None:
        """What arrived; None once the other side has ended its stream."""
        data = b""
        while True:
            try:
                chunk = sock.recv(1 << 20)
            except BlockingIOError:
                return data
            if not chunk:
                return data or None
            data += chunk


def test_bytes_cross_both_ways() -> None:
    rig = Rig()
    rig.left.sendall(b"from the left")
    rig.right.sendall(b"from the right")
    rig.tick()
    assert rig.read(rig.right) == b"from the left"
    assert rig.read(rig.left) == b"from the right"


def test_a_side_that_does_not_read_stops_the_reading_of_the_other() -> None:
    rig = Rig()
    left, right = rig.transports
    chunk = b"x" * 65536
    for _ in range(200):  # the right peer never reads: its kernel buffers fill, then our queue
        with contextlib.suppress(BlockingIOError):  # the kernel is full: the tunnel must drain it
            rig.left.send(chunk)
        rig.tick(1)
        if left.state is WAITING:
            break
    assert left.state is WAITING, "the left side is not read while the right one is backed up"
    assert right.queued <= rig.limits.high_water + rig.limits.recv_size
    received = 0
    for _ in range(2000):
        data = rig.read(rig.right)
        received += len(data or b"")
        with contextlib.suppress(BlockingIOError):  # the kernel is full: the tunnel must drain it
            rig.left.send(chunk)
        rig.tick(1)
        if received > 8 << 20:
            break
    assert received > 8 << 20, "reading again once the right side drained"


def test_an_end_of_stream_becomes_a_half_close_after_what_is_queued() -> None:
    rig = Rig()
    left, right = rig.transports
    rig.left.sendall(b"last words")
    rig.left.shutdown(socket.SHUT_WR)
    rig.tick()
    assert rig.read(rig.right) == b"last words"
    assert rig.read(rig.right) is None, "the right peer reads the end of the stream"
    rig.right.sendall(b"an answer after the end")  # the other way still carries bytes
    rig.tick()
    assert rig.read(rig.left) == b"an answer after the end"
    assert left.state is not CLOSED and right.state is not CLOSED
    rig.right.shutdown(socket.SHUT_WR)
    rig.tick()
    assert left.state is CLOSED and right.state is CLOSED, "both ways ended: the tunnel is over"
    assert rig.read(rig.left) is None


def test_a_half_close_waits_for_the_queue_to_empty() -> None:
    rig = Rig()
    right = rig.transports[1]
    right.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    message = b"y" * 60_000  # below the high-water mark (nothing paused), above what the socket takes
    right.write(message)
    rig.left.shutdown(socket.SHUT_WR)
    rig.tick(1)
    assert right.queued > 0, "the end of stream was read while bytes were still queued"
    received = b""
    for _ in range(1000):
        data = rig.read(rig.right)
        if data is None:
            break
        received += data
        rig.tick(1)
    assert received == message, "every queued byte arrives before the end of the stream"


def test_a_lost_side_closes_the_other_after_its_queue() -> None:
    rig = Rig()
    left, right = rig.transports
    rig.right.sendall(b"in flight")
    rig.tick()
    rig.left.close()
    rig.tick()
    assert left.state is CLOSED and right.state is CLOSED
    assert rig.read(rig.right) is None
