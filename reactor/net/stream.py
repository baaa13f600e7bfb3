"""Raw TCP streams on the loop, for servers that are not HTTP (echo, line protocols).

A ``StreamServer`` accepts connections through the same Acceptor as the HTTP server and runs a new
protocol object from the factory on each, over the same Transport (transport.py): the protocol is told
``connection_made(transport)``, ``data_received(data)``, ``eof_received()`` and
``connection_lost(reason)``, and answers with ``transport.write``. When the send queue passes the
high-water mark the protocol is told ``pause_writing()``, and ``resume_writing()`` once it has drained to
the low-water mark. A protocol that produces output from input (an echo) answers by
``pause_reading()``/``resume_reading()``, so a client that sends without reading is slowed by TCP
itself instead of filling the server's memory.

Every callback runs on the loop thread. A protocol method that raises is logged and its connection
closed; the loop and the other connections go on. A raw stream has no notion of a request to time, so
no read timeout runs; the send timeout does, as for every transport.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Collection, Iterable

from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.acceptor import Acceptor
from reactor.net.transport import Protocol, Transport

logger = logging.getLogger(__name__)


class StreamProtocol(Protocol):
    """A protocol for a raw TCP stream; override the callbacks you need (transport.Protocol)."""


class LineProtocol(StreamProtocol):
    """Calls ``line_received(line)`` for each line ending in b"\\n" (the b"\\n" included), as
    ``StreamRequestHandler.rfile.readline()`` hands them out. A line longer than ``max_line`` closes
    the connection; so does a partial last line, after it is passed on at end of stream."""

    max_line = 64 * 1024

    def __init__(self) -> None:
        self._partial = bytearray()

    def data_received(self, data: bytes) -> None:
        buffer = self._partial
        buffer += data
        start = 0
        while (end := buffer.find(b"\n", start)) >= 0:
            self.line_received(bytes(buffer[start : end + 1]))
            start = end + 1
            if self.transport.closing:
                return
        del buffer[:start]
        if len(buffer) > self.max_line:
            logger.info("%r: line longer than %d bytes; closing", self.transport, self.max_line)
            self.transport.close()

    def eof_received(self) -> bool:
        if self._partial:
            line, self._partial = bytes(self._partial), bytearray()
            self.line_received(line)
        return False

    def line_received(self, line: bytes) -> None:
        """One line, its b"\\n" included (absent only on a last line cut by the end of stream)."""


class StreamServer:
    """Accepts TCP connections on ``sockets`` (bound and listening) and runs a ``protocol_factory()``
    instance on each. At ``limits.max_connections`` it stops accepting until one closes."""

    def __init__(
        self,
        loop: EventLoop,
        sockets: Iterable[socket.socket],
        protocol_factory: Callable[[], StreamProtocol],
        limits: Limits | None = None,
    ) -> None:
        self.loop = loop
        self.limits = limits if limits is not None else Limits()
        self.acceptor = Acceptor(loop, sockets, protocol_factory, self.limits)

    def __repr__(self) -> str:
        return f"<StreamServer {self.addresses} connections={len(self.acceptor.connections)}>"

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return self.acceptor.addresses

    @property
    def transports(self) -> Collection[Transport]:
        """The connections open now."""
        return self.acceptor.connections.keys()

    def start(self) -> None:
        self.acceptor.start()

    def close(self) -> None:
        """Stop accepting and abort every connection."""
        self.acceptor.close()
        for transport in list(self.acceptor.connections):
            transport.abort()
