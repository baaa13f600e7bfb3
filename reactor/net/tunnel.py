"""Two connections joined byte for byte: what an upgraded connection (WebSocket, 101 Switching
Protocols) becomes when the reverse proxy passes it through.

Each side is a ``TunnelEnd``, the protocol of its transport: what one side reads, the other writes.
Backpressure crosses over: when one side's send queue passes the high-water mark (``pause_writing``),
the other side stops reading until it drains, so a slow reader holds at most a queue's worth. One
side's end of stream becomes a half-close of the other (``Transport.write_eof``: once what is queued
for it has left), and the tunnel ends when both sides have ended, or when either connection is lost:
the other then closes once its queue has left. A tunnel has no idle timeout (a quiet WebSocket is
normal); the send timeout still ends a side that stops reading.
"""

from __future__ import annotations

from collections.abc import Callable

from reactor.exchange import Exchange
from reactor.http.serverconnection import Fields
from reactor.net.iostate import NO_TIMEOUT
from reactor.net.transport import Protocol, TransportInterface
from reactor.upstream import UpstreamConnection


class TunnelEnd(Protocol):
    """One side of a tunnel. ``finish()`` ends this side once the tunnel is over: for a client the
    exchange's ``end`` (the access log line, then the close), for a backend its transport's close."""

    def __init__(self) -> None:
        self.peer: TunnelEnd | None = None
        self.ended = False  # this side's peer sent its end of stream
        self.finish: Callable[[], object] = self._close

    def __repr__(self) -> str:
        transport = getattr(self, "transport", None)
        return f"<TunnelEnd {transport.summary() if transport is not None else 'unconnected'}>"

    def connection_made(self, transport: TransportInterface) -> None:
        self.transport = transport
        transport.resume_reading(NO_TIMEOUT)

    def data_received(self, data: bytes) -> None:
        assert self.peer is not None
        self.peer.transport.write(data)

    def eof_received(self) -> bool:
        peer = self.peer
        assert peer is not None
        self.ended = True
        if peer.ended:  # both ways are over: this side closes after its queue, and so does the other
            peer.finish()
            return False
        peer.transport.write_eof()
        return True  # the other way may still carry bytes to this side

    def pause_writing(self) -> None:
        assert self.peer is not None
        self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.peer is not None
        self.peer.transport.resume_reading(NO_TIMEOUT)

    def connection_lost(self, reason: str) -> None:
        self.finish()  # a side already closed: only what it stands for ends (the exchange's log line)
        if self.peer is not None:
            self.peer.finish()

    def _close(self) -> None:
        self.transport.close("tunnel closed")


def join(client: TunnelEnd, backend: TunnelEnd) -> None:
    """Make ``client`` and ``backend`` the two sides of one tunnel."""
    client.peer = backend
    backend.peer = client


def open_tunnel(exchange: Exchange, fields: Fields, upstream: UpstreamConnection) -> None:
    """The backend answered 101 on ``upstream``: answer the client 101 with ``fields`` and join the two
    connections. What either side sent after its head goes first: the client's to the backend
    (Exchange.switch_protocols), the backend's to the client, after the 101."""
    client, backend = TunnelEnd(), TunnelEnd()
    join(client, backend)
    client.finish = exchange.end  # the access log line, then the close, through the HTTP connection
    rest = upstream.hand_over(backend)
    exchange.switch_protocols(fields, client)
    if rest:
        # Run as a callback of the backend's connection, after the one running now: the client's
        # side is connected by then.
        backend.transport.defer(backend.data_received, rest)
