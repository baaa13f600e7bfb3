"""UDP on the loop: a bound socket that hands each datagram to a protocol and sends replies.

``DatagramEndpoint`` reads datagrams in bounded batches (like accepts: one busy socket cannot starve
the rest of the loop) and calls ``protocol.datagram_received(data, address)``. ``sendto`` sends at
once; when the kernel's buffer is full the datagram waits in a short queue, sent on the next
writable event. UDP promises no delivery, so that queue is bounded: past ``max_queued`` datagrams,
new ones are dropped and counted rather than buffered without limit.
"""

from __future__ import annotations

import collections
import logging
import socket
from typing import Any

from reactor.loop.eventloop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.net.listener import check_port

logger = logging.getLogger(__name__)

MAX_DATAGRAM = 65535  # the largest UDP payload, so recvfrom never truncates one


def bind_datagram(host: str, port: int) -> socket.socket:
    """Return a non-blocking UDP socket bound to the first address ``host`` resolves to. Raises
    ValueError for a port outside 0-65535, OSError (socket.gaierror for an unknown name)."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, check_port(port), type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class DatagramProtocol:
    """Override the callbacks you need; the defaults do nothing."""

    transport: DatagramEndpoint

    def connection_made(self, transport: DatagramEndpoint) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, address: Any) -> None:
        """One datagram from ``address`` (host, port[, flowinfo, scope_id])."""

    def error_received(self, error: OSError) -> None:
        """An error the socket reported (an ICMP port unreachable for an earlier sendto...)."""
        logger.debug("%r: %s", self.transport, error)

    def connection_lost(self, reason: str) -> None:
        """The endpoint is closed."""


class DatagramEndpoint:
    """A bound UDP socket on the loop, for one protocol."""

    def __init__(
        self,
        loop: EventLoop,
        sock: socket.socket,
        protocol: DatagramProtocol,
        *,
        batch: int = 64,
        max_queued: int = 1024,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.protocol = protocol
        self._batch = batch
        self._max_queued = max_queued
        self._queue: collections.deque[tuple[bytes, Any]] = collections.deque()
        self.closed = False
        self.received = 0
        self.sent = 0
        self.dropped = 0  # datagrams not sent because the queue was full
        loop.register(sock, EVENT_READ, self.on_readable, self.on_writable)
        protocol.connection_made(self)

    def __repr__(self) -> str:
        where = "closed" if self.closed else "{}:{}".format(*self.address)
        return f"<DatagramEndpoint {where} received={self.received} sent={self.sent} dropped={self.dropped}>"

    @property
    def address(self) -> tuple[str, int]:
        name = self.sock.getsockname()
        return name[0], name[1]

    def sendto(self, data: bytes, address: Any) -> None:
        """Send one datagram to ``address``; queue it if the socket is full, drop it if the queue is."""
        if self.closed:
            return
        if not self._queue:
            try:
                self.sock.sendto(data, address)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as error:
                self._report(error)
                return
            else:
                self.sent += 1
                return
        if len(self._queue) >= self._max_queued:
            self.dropped += 1
            return
        if not self._queue:
            self.loop.modify(self.sock, EVENT_READ | EVENT_WRITE)
        self._queue.append((bytes(data), address))

    def close(self) -> None:
        """Unregister and close the socket, dropping queued datagrams. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.loop.unregister(self.sock)
        self._queue.clear()
        self.sock.close()
        try:
            self.protocol.connection_lost("closed")
        except Exception:
            logger.exception("%r: connection_lost failed", self)

    def on_readable(self) -> None:
        for _ in range(self._batch):
            if self.closed:
                return
            try:
                data, address = self.sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                self._report(error)
                continue
            self.received += 1
            try:
                self.protocol.datagram_received(data, address)
            except Exception:
                logger.exception("%r: datagram_received failed", self)

    def on_writable(self) -> None:
        queue = self._queue
        while queue and not self.closed:
            data, address = queue[0]
            try:
                self.sock.sendto(data, address)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                self._report(error)
            else:
                self.sent += 1
            queue.popleft()
        if not self.closed:
            self.loop.modify(self.sock, EVENT_READ)

    def _report(self, error: OSError) -> None:
        try:
            self.protocol.error_received(error)
        except Exception:
            logger.exception("%r: error_received failed", self)
