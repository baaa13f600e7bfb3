"""The HTTP server: listeners, connections, the connection limit and the graceful shutdown."""

from __future__ import annotations

import itertools
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from reactor.connection import ConnectionConfig, HTTPConnection
from reactor.exchange import Handler
from reactor.limits import Limits
from reactor.listener import ListenerGroup
from reactor.loop import EventLoop, LoopStatistics
from reactor.timers import Handle
from reactor.trace import Tracer

logger = logging.getLogger("reactor.server")


@dataclass(frozen=True)
class ServerStatistics:
    connections: int  # open now
    by_state: dict[str, int]  # open connections per I/O state
    accepted: int
    requests: int
    bytes_received: int
    bytes_sent: int
    queued: int  # response bytes waiting in send queues now, all connections together
    largest_queue: int  # the most any one connection has waiting
    closes: dict[str, int]  # closed connections per reason
    loop: LoopStatistics


class Server:
    """Serves ``handler`` on ``sockets`` (already bound and listening) with ``loop``.

    ``shutdown(grace)`` stops accepting, closes idle connections, lets responses in flight finish for
    up to ``grace`` seconds, then closes what is left and calls ``on_stopped``.
    """

    def __init__(
        self,
        loop: EventLoop,
        sockets: Iterable[socket.socket],
        handler: Handler,
        limits: Limits | None = None,
        access_log: Callable[[str, str, int, int], None] | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.loop = loop
        self.limits = limits if limits is not None else Limits()
        self._config = ConnectionConfig(
            loop, handler, self.limits, access_log, self._on_connection_closed, tracer=tracer
        )
        self.listening = ListenerGroup(loop, sockets, self._on_accept, self.limits)
        self.connections: set[HTTPConnection] = set()
        self._ids = itertools.count(1)
        self._shutting_down = False
        self._grace_timer: Handle | None = None
        self._on_stopped: Callable[[], object] | None = None

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return self.listening.addresses

    def start(self) -> None:
        self.listening.start()

    def _on_accept(self, sock: socket.socket, address: tuple[str, int]) -> None:
        if self._shutting_down:
            sock.close()
            return
        connection = HTTPConnection(self._config, sock, address, next(self._ids))
        self.connections.add(connection)
        self.listening.count(len(self.connections))
        connection.start()

    def _on_connection_closed(self, connection: HTTPConnection) -> None:
        self.connections.discard(connection)
        self.listening.count(len(self.connections))
        if self._shutting_down and not self.connections:
            self._stopped()

    def shutdown(self, grace: float | None = None, on_stopped: Callable[[], object] | None = None) -> None:
        """Stop gracefully: no new connections, idle ones closed now, busy ones closed after their
        response or after ``grace`` seconds (default: the limits' grace), whichever comes first."""
        if self._shutting_down:
            return
        self._shutting_down = True
        self._on_stopped = on_stopped
        self.listening.close()
        for connection in list(self.connections):
            connection.shutdown()
        if not self.connections:
            self._stopped()
            return
        delay = self.limits.grace if grace is None else grace
        logger.info("waiting up to %.1f s for %d connection(s) to finish", delay, len(self.connections))
        self._grace_timer = self.loop.call_later(delay, self._grace_expired)

    def _grace_expired(self) -> None:
        self._grace_timer = None
        for connection in list(self.connections):
            connection.close("shutdown grace expired")

    def _stopped(self) -> None:
        if self._grace_timer is not None:
            self._grace_timer.cancel()
            self._grace_timer = None
        callback, self._on_stopped = self._on_stopped, None
        if callback is not None:
            callback()

    def close(self) -> None:
        """Close every listener and connection at once (no grace)."""
        self.listening.close()
        for connection in list(self.connections):
            connection.close("server closed")

    def statistics(self) -> ServerStatistics:
        counters = self._config.counters
        by_state: dict[str, int] = {}
        queued = largest = 0
        for connection in self.connections:
            by_state[connection.state.value] = by_state.get(connection.state.value, 0) + 1
            queued += connection.queued
            largest = max(largest, connection.queued)
        return ServerStatistics(
            connections=len(self.connections),
            by_state=by_state,
            accepted=self.listening.accepted,
            requests=counters.requests,
            bytes_received=counters.bytes_received,
            bytes_sent=counters.bytes_sent,
            queued=queued,
            largest_queue=largest,
            closes=dict(counters.closes),
            loop=self.loop.statistics(),
        )
