"""Accepting connections for a server of any protocol: a Transport and a new protocol object for each
accepted socket, and the set of open connections that the connection limit counts."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Callable, Iterable
from functools import partial
from typing import Generic, TypeVar

from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.listener import ListenerGroup
from reactor.net.transport import Counters, Protocol, Transport
from reactor.trace.tracer import Tracer

P = TypeVar("P", bound=Protocol)


class Acceptor(Generic[P]):
    """Accepts on ``sockets`` (bound and listening) and runs ``protocol_factory()`` on each connection.
    While ``limits.max_connections`` are open no listener accepts: newcomers wait in the kernel's
    backlog. ``on_closed(protocol)`` is told when a connection has closed. ``transport_factory`` takes
    the Transport's arguments (TLSTransport bound to its context, for HTTPS)."""

    def __init__(
        self,
        loop: EventLoop,
        sockets: Iterable[socket.socket],
        protocol_factory: Callable[[], P],
        limits: Limits,
        *,
        tracer: Tracer | None = None,
        on_closed: Callable[[P], object] | None = None,
        transport_factory: Callable[..., Transport] = Transport,
    ) -> None:
        self.loop = loop
        self.limits = limits
        self.counters = Counters()
        self.connections: dict[Transport, P] = {}  # open now
        self.listening = ListenerGroup(loop, sockets, self._on_accept, limits)
        self._protocol_factory = protocol_factory
        self._tracer = tracer
        self._on_closed = on_closed
        self._transport_factory = transport_factory  # Transport, or TLSTransport with its context (tls.py)
        self._ids = itertools.count(1)

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return self.listening.addresses

    def start(self) -> None:
        self.listening.start()

    def close(self) -> None:
        """Stop accepting; open connections go on."""
        self.listening.close()

    def _on_accept(self, sock: socket.socket, address: tuple[str, int]) -> None:
        protocol = self._protocol_factory()
        transport = self._transport_factory(
            self.loop,
            sock,
            address,
            protocol,
            self.limits,
            ident=next(self._ids),
            counters=self.counters,
            tracer=self._tracer,
            on_closed=partial(self._closed, protocol),
        )
        self.connections[transport] = protocol
        self.listening.count(len(self.connections))
        transport.start()

    def _closed(self, protocol: P, transport: Transport) -> None:
        del self.connections[transport]
        self.listening.count(len(self.connections))
        if self._on_closed is not None:
            self._on_closed(protocol)
