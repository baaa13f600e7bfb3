"""Raw TCP streams on the loop, for servers that are not HTTP (echo, line protocols).

The shape is asyncio's protocol/transport split. A ``StreamServer`` accepts connections through the
same ``Listener`` as the HTTP server and gives each one a ``StreamTransport`` and a new protocol
object from the factory. The protocol is told ``connection_made(transport)``,
``data_received(data)``, ``eof_received()`` and ``connection_lost(reason)``. The transport's
``write`` tries the socket at once and queues the rest in a ``SendQueue``; when the queue passes the
high-water mark the protocol is told ``pause_writing()``, and ``resume_writing()`` once it has
drained to the low-water mark. A protocol that produces output from input (an echo) answers by
``pause_reading()``/``resume_reading()``, so a client that sends without reading is slowed by TCP
itself instead of filling the server's memory.

Every callback runs on the loop thread. A protocol method that raises is logged and its connection
aborted; the loop and the other connections go on. There is no idle timeout here: a raw stream has
no notion of a request to time.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

from reactor.errors import is_peer_gone
from reactor.limits import Limits
from reactor.listener import ListenerGroup
from reactor.loop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.sendqueue import SendQueue

logger = logging.getLogger("reactor.stream")


class StreamProtocol:
    """Override the callbacks you need; the defaults do nothing (``eof_received`` closes)."""

    transport: StreamTransport

    def connection_made(self, transport: StreamTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Bytes arrived, split wherever TCP split them."""

    def eof_received(self) -> bool:
        """The peer will send nothing more. Return True to keep our side open (to write more and
        close later); the default closes once queued output is sent."""
        return False

    def connection_lost(self, reason: str) -> None:
        """The connection is closed; ``reason`` says why ("closed", "peer reset"...)."""

    def pause_writing(self) -> None:
        """The transport's queue passed the high-water mark: stop producing output."""

    def resume_writing(self) -> None:
        """The queue drained to the low-water mark: produce again."""


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


class StreamTransport:
    """One accepted TCP connection, driven by the loop for its protocol."""

    def __init__(
        self,
        loop: EventLoop,
        sock: socket.socket,
        address: tuple[str, int],
        protocol: StreamProtocol,
        limits: Limits,
        on_closed: Callable[[StreamTransport], object],
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.address = address
        self.protocol = protocol
        self._limits = limits
        self._on_closed = on_closed
        self._queue = SendQueue()
        self._reading = True
        self._delivering = False  # inside data_received: writes wait for one send after it
        self._eof = False
        self.closing = False  # close() was called: no more writes, close once the queue drains
        self.closed = False
        self._write_paused = False
        self._events = 0
        self._update_interest()
        self._call(protocol.connection_made, self)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "closing" if self.closing else "open"
        return f"<StreamTransport {self.address[0]}:{self.address[1]} {state} queued={self._queue.size}>"

    @property
    def queued(self) -> int:
        """Bytes written and not yet taken by the kernel."""
        return self._queue.size

    # -- what the protocol calls --------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send ``data``: now as far as the socket takes it, the rest as it drains. Writes made
        inside ``data_received`` go out together when it returns: one send per read, not one per
        line of an echo. Ignored once closing."""
        if self.closing or not data:
            return
        self._queue.push_bytes(bytes(data))
        if not self._delivering:
            self._flush()

    def pause_reading(self) -> None:
        """Stop reading: the peer's data waits in the kernel, then TCP slows the peer down."""
        self._reading = False
        self._update_interest()

    def resume_reading(self) -> None:
        self._reading = True
        self._update_interest()

    def close(self) -> None:
        """Stop reading, send what is queued, then close. Idempotent."""
        if self.closing:
            return
        self.closing = True
        if self._queue:
            self._update_interest()
        else:
            self._close("closed")

    def abort(self) -> None:
        """Close now, dropping what is queued."""
        self._close("aborted")

    # -- loop callbacks -----------------------------------------------------------------------------

    def on_readable(self) -> None:
        if self.closed:
            return  # closed by an earlier callback of this same loop iteration
        try:
            data = self.sock.recv(self._limits.recv_size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:
            self._on_socket_error(error)
            return
        if data:
            self._delivering = True
            try:
                self._call(self.protocol.data_received, data)
            finally:
                self._delivering = False
            if self._queue:
                self._flush()
            return
        self._eof = True
        self._update_interest()
        if not self._call(self.protocol.eof_received):
            self.close()

    def on_writable(self) -> None:
        self._flush()

    # -- internals ------------------------------------------------------------------------------------

    def _flush(self) -> None:
        if self.closed:
            return
        try:
            self._queue.flush(self.sock)
        except OSError as error:
            self._on_socket_error(error)
            return
        size = self._queue.size
        limits = self._limits
        if not self._write_paused and size > limits.high_water:
            self._write_paused = True
            self._call(self.protocol.pause_writing)
        elif self._write_paused and size <= limits.low_water:
            self._write_paused = False
            self._call(self.protocol.resume_writing)
        if self.closing and not self._queue:
            self._close("closed")
        else:
            self._update_interest()

    def _update_interest(self) -> None:
        """Read interest while reading is wanted, write interest while bytes are queued."""
        if self.closed:
            return
        events = 0
        if self._reading and not self.closing and not self._eof:
            events |= EVENT_READ
        if self._queue:
            events |= EVENT_WRITE
        if events != self._events:
            self.loop.set_events(self.sock, self._events, events, self.on_readable, self.on_writable)
            self._events = events

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        """Run a protocol callback; one that raises is logged and aborts this connection."""
        try:
            return method(*args)
        except Exception:
            logger.exception("%r: %s failed; aborting the connection", self, getattr(method, "__name__", method))
            self._close("protocol error")
            return None

    def _on_socket_error(self, error: OSError) -> None:
        if is_peer_gone(error):
            self._close("peer reset")
        else:
            logger.warning("%r: socket error: %s", self, error)
            self._close("socket error")

    def _close(self, reason: str) -> None:
        """The one exit: unregister, drop the queue, close the socket, tell the protocol and the
        server. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.closing = True
        if self._events:
            self.loop.unregister(self.sock)
            self._events = 0
        self._queue.clear()
        self.sock.close()
        try:
            self.protocol.connection_lost(reason)
        except Exception:
            logger.exception("%r: connection_lost failed", self)
        self._on_closed(self)


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
        self.protocol_factory = protocol_factory
        self.listening = ListenerGroup(loop, sockets, self._on_accept, self.limits)
        self.transports: set[StreamTransport] = set()

    def __repr__(self) -> str:
        return f"<StreamServer {self.addresses} connections={len(self.transports)}>"

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return self.listening.addresses

    def start(self) -> None:
        self.listening.start()

    def close(self) -> None:
        """Stop accepting and abort every connection."""
        self.listening.close()
        for transport in list(self.transports):
            transport.abort()

    def _on_accept(self, sock: socket.socket, address: tuple[str, int]) -> None:
        transport = StreamTransport(self.loop, sock, address, self.protocol_factory(), self.limits, self._on_closed)
        if not transport.closed:
            self.transports.add(transport)
        self.listening.count(len(self.transports))

    def _on_closed(self, transport: StreamTransport) -> None:
        self.transports.discard(transport)
        self.listening.count(len(self.transports))
