"""Transport.write_eof: a TCP half-close once what is queued has left, the connection still read."""

from __future__ import annotations

import socket

from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.iostate import READING
from reactor.net.stream import StreamProtocol
from reactor.net.transport import Transport
from reactor.testing import FakeClock, tick


class Recorder(StreamProtocol):
    def __init__(self) -> None:
        self.received = b""

    def data_received(self, data: bytes) -> None:
        self.received += data


def test_the_end_of_stream_follows_the_last_queued_byte_and_reading_goes_on() -> None:
    loop = EventLoop(clock=FakeClock())
    peer, ours = socket.socketpair()
    peer.setblocking(False)
    ours.setblocking(False)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    protocol = Recorder()
    transport = Transport(loop, ours, ("127.0.0.1", 40000), protocol, Limits())
    transport.start()
    message = b"z" * 60_000  # below the high-water mark, more than the socket takes at once
    transport.write(message)
    transport.write_eof()
    assert transport.queued > 0
    received = b""
    ended = False
    for _ in range(1000):
        try:
            data = peer.recv(1 << 16)
        except BlockingIOError:
            tick(loop)
            continue
        if not data:
            ended = True
            break
        received += data
    assert ended and received == message, "the end came after every queued byte"
    peer.sendall(b"still read")
    for _ in range(10):
        tick(loop)
    assert protocol.received == b"still read"
    assert transport.state is READING
    transport.abort()
    peer.close()
    loop.close()
