"""The HTTP server: listeners, connections, the connection limit and the graceful shutdown."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from reactor.exchange import AccessLog, Handler
from reactor.httpconnection import ConnectionConfig, HTTPConnection, refuse_plain_http
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop, LoopStatistics
from reactor.loop.timers import Handle
from reactor.net.acceptor import Acceptor
from reactor.net.tls import TLSTransport
from reactor.net.transport import Transport
from reactor.trace.tracer import Tracer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerStatistics:
    connections: int  # open now
    by_state: dict[str, int]  # open connections per I/O state
    streams: int  # open connections sending a long-lived response (an event stream: Exchange.mark_long_lived)
    accepted: int
    requests: int  # handed to the handler
    responses: dict[str, dict[str, int]]  # ended, by method ("none": no request head read) and status class ("2xx")
    bytes_received: int
    bytes_sent: int
    queued: int  # response bytes waiting in send queues now, all connections together
    largest_queue: int  # the most any one connection has waiting
    closes: dict[str, int]  # closed connections per reason
    tls_handshake_failures: dict[str, int]  # by the TLS library's reason (NO_SHARED_CIPHER...)
    loop: LoopStatistics


class Server:
    """Serves ``handler`` on ``sockets`` (already bound and listening) with ``loop``.

    ``shutdown(grace)`` stops accepting, closes idle connections, lets responses in flight finish for
    up to ``grace`` seconds, then closes what is left and calls ``on_stopped``. ``protocol`` is the HTTP
    version the responses speak: HTTP/1.1, or HTTP/1.0 (close after each response unless asked to keep
    the connection). With ``tls`` (a server context: tls.load_context) every connection speaks HTTPS.
    ``advice`` maps a status to what the server's own error page for it adds after the reason (how
    to raise the limit that refused the request: ``{413: "--max-body raises it"}``).
    """

    def __init__(
        self,
        loop: EventLoop,
        sockets: Iterable[socket.socket],
        handler: Handler,
        limits: Limits | None = None,
        access_log: AccessLog | None = None,
        tracer: Tracer | None = None,
        protocol: str = "HTTP/1.1",
        tls: ssl.SSLContext | None = None,
        advice: Mapping[int, str] | None = None,
    ) -> None:
        self.loop = loop
        self.limits = limits if limits is not None else Limits()
        config = ConnectionConfig(handler, self.limits, access_log, protocol, advice)
        transport_factory: Callable[..., Transport] = Transport
        if tls is not None:
            transport_factory = partial(TLSTransport, context=tls, refusal=partial(refuse_plain_http, config))
        self.acceptor = Acceptor(
            loop,
            sockets,
            partial(HTTPConnection, config),
            self.limits,
            tracer=tracer,
            on_closed=self._on_connection_closed,
            transport_factory=transport_factory,
        )
        self._shutting_down = False
        self._grace_timer: Handle | None = None
        self._on_stopped: Callable[[], object] | None = None

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return self.acceptor.addresses

    @property
    def connections(self) -> Collection[HTTPConnection]:
        """The connections open now."""
        return self.acceptor.connections.values()

    def start(self) -> None:
        self.acceptor.start()

    def _on_connection_closed(self, connection: HTTPConnection) -> None:
        if self._shutting_down and not self.acceptor.connections:
            self._stopped()

    def shutdown(self, grace: float | None = None, on_stopped: Callable[[], object] | None = None) -> None:
        """Stop gracefully: no new connections, idle ones closed now, long-lived streams ended now, busy
        ones closed after their response or after ``grace`` seconds (default: the limits' grace),
        whichever comes first."""
        if self._shutting_down:
            return
        self._shutting_down = True
        self._on_stopped = on_stopped
        self.acceptor.close()
        for connection in list(self.connections):
            connection.shutdown()
        if not self.acceptor.connections:
            self._stopped()
            return
        delay = self.limits.grace if grace is None else grace
        logger.info("waiting up to %.1f s for %d connection(s) to finish", delay, len(self.acceptor.connections))
        self._grace_timer = self.loop.call_later(delay, self._grace_expired)

    def _grace_expired(self) -> None:
        self._grace_timer = None
        for transport in list(self.acceptor.connections):
            transport.abort("shutdown grace expired")

    def _stopped(self) -> None:
        if self._grace_timer is not None:
            self._grace_timer.cancel()
            self._grace_timer = None
        callback, self._on_stopped = self._on_stopped, None
        if callback is not None:
            callback()

    def close(self) -> None:
        """Close every listener and connection at once (no grace)."""
        self.acceptor.close()
        for transport in list(self.acceptor.connections):
            transport.abort("server closed")

    def statistics(self) -> ServerStatistics:
        acceptor = self.acceptor
        counters = acceptor.counters
        by_state: dict[str, int] = {}
        queued = largest = streams = 0
        responses = {
            method or "none": {f"{digit}xx": count for digit, count in enumerate(counts) if count}
            for method, counts in counters.responses.items()
        }
        for transport, connection in acceptor.connections.items():
            state = transport.state.value
            by_state[state] = by_state.get(state, 0) + 1
            queued += transport.queued
            largest = max(largest, transport.queued)
            streams += connection.long_lived
        return ServerStatistics(
            connections=len(acceptor.connections),
            by_state=by_state,
            streams=streams,
            accepted=acceptor.listening.accepted,
            requests=counters.requests,
            responses=responses,
            bytes_received=counters.bytes_received,
            bytes_sent=counters.bytes_sent,
            queued=queued,
            largest_queue=largest,
            closes=dict(counters.closes),
            tls_handshake_failures=dict(counters.tls_handshake_failures),
            loop=self.loop.statistics(),
        )
