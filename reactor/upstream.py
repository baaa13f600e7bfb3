"""Connections from the reverse proxy to one backend: an HTTP/1.1 client protocol on the same
Transport as every accepted connection, and a pool that keeps a few of them open between requests.

``UpstreamPool.connect`` opens a connection (connector.py: a non-blocking connect, then a Transport);
``take_idle`` hands out the connection used last (LIFO: the one least likely to have been closed by the
backend meanwhile). An ``UpstreamConnection`` carries one request at a time for its ``Receiver`` (the
proxy's side of one exchange, handlers/proxy/reverseproxy.py): ``send`` the head, ``send_body`` / ``end_body`` the
body, and the response comes back as ``response_head``, ``response_data`` and ``response_end`` (or as
one ``response`` when it arrived whole with its head), or ``response_failed`` with the status the
client gets if nothing of the response was passed on yet (502: the backend refused, reset, closed or
sent something malformed; 504: it did not connect, take the request or answer within the timeout).
The bytes both ways are framed by the sans-IO ClientConnection (http/client.py).

What the transport reads for, and so which timeout runs, follows the request: nothing before a
request; while the request body is still being sent, no read timeout (the send timeout holds a
backend that stops reading it); then the head timeout for the whole response head; between two reads
of the body, the body timeout (both are ``--proxy-timeout``, as nginx's proxy_read_timeout); idle in
the pool, IDLE_TIMEOUT, after which it is closed. An idle connection is read too: the backend closing
it, or sending anything, closes it on our side and the pool forgets it.

Backpressure: the receiver pauses the response (``pause_response``) while its client is slow and
resumes it when the client has drained, so a slow client slows the reads from the backend; the
request body is paused the other way (``Receiver.pause_request_body``) while this transport's send
queue is above its high-water mark. While it is, the transport reads nothing (its WRITING state): a
backend that answers early, then reads no more of the body until its answer is read, is ended by the
send timeout (a 504). HTTP/1.1 servers read and drop a body they answered early, or close.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import socket
from collections.abc import Callable, Sequence
from typing import Protocol as Interface

from reactor.http.client import ClientConnection, ResponseHead
from reactor.http.errors import ProtocolError
from reactor.http.events import NEED_DATA, PEER_CLOSED, Data, EndOfMessage
from reactor.http.fields import FieldLineCache
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.connector import Address, Connecting, describe
from reactor.net.iostate import BODY_TIMEOUT, CLOSED, HEADER_TIMEOUT, KEEPALIVE_TIMEOUT, NO_TIMEOUT, Timeout
from reactor.net.transport import Counters, Protocol, Transport, TransportInterface

logger = logging.getLogger(__name__)

# Idle connections kept per backend: more than a browser opens to one host (6), for a few tabs and
# the requests they make at once; nginx's upstream keepalive is set by hand, often to 16 or 32.
MAX_IDLE = 32
# How long an idle connection is kept: below the 5 s after which Node's http server (behind most
# development servers) closes an idle one, so our side closes first and a request rarely meets a
# connection closing under it.
IDLE_TIMEOUT = 4.0


class Receiver(Interface):
    """What an UpstreamConnection tells the code whose request it carries (one exchange)."""

    def response_head(self, head: ResponseHead) -> None:
        """The final response head (interim 1xx heads are not passed on). After a 101 the receiver
        takes the connection over (``UpstreamConnection.hand_over``)."""

    def response_data(self, data: bytes) -> None:
        """A piece of the response body."""

    def response(self, head: ResponseHead, body: bytes) -> None:
        """A whole response at once: its final head and all of its body, which had arrived with it;
        the connection is back in the pool or closed. (Instead of response_head, response_data and
        response_end: the client gets it in one write.)"""

    def response_end(self) -> None:
        """The response is complete; the connection is back in the pool or closed."""

    def response_failed(self, status: int, reason: str, retry: bool) -> None:
        """The response cannot be completed; the connection is closed. ``status`` is the answer owed
        when no head was passed on: 502 or 504. ``retry``: nothing reached the backend's answer on a
        connection that had carried a request before, the race of a backend closing an idle
        connection as we reuse it; the same request may go again on a fresh connection."""

    def pause_request_body(self) -> None:
        """The backend is not taking the request body as fast as it comes: stop sending it."""

    def resume_request_body(self) -> None:
        """Send the request body again."""


def backend_limits(timeout: float, base: Limits | None = None) -> Limits:
    """The limits of connections to a backend: ``timeout`` for the response head, between reads of
    its body and between sends of the request (nginx's proxy_read_timeout and proxy_send_timeout),
    IDLE_TIMEOUT idle in the pool; the buffers of ``base``."""
    return dataclasses.replace(
        base or Limits(),
        header_timeout=timeout,
        body_timeout=timeout,
        send_timeout=timeout,
        keepalive_timeout=IDLE_TIMEOUT,
    )


class UpstreamConnection(Protocol):
    """One connection to a backend, carrying one request at a time."""

    def __init__(self, pool: UpstreamPool) -> None:
        self._pool = pool
        limits = pool.limits
        self._conn = ClientConnection(
            max_head=limits.max_head, max_headers=limits.max_headers, field_lines=pool.field_lines
        )
        self._receiver: Receiver | None = None  # whose request is in flight; None while idle
        self.requests = 0  # requests carried, the one in flight included
        self._head_seen = False  # the final response head of the request in flight was passed on
        self._paused = False  # the receiver paused the response (its client is slow)

    def __repr__(self) -> str:
        summary = self.transport.summary() if hasattr(self, "transport") else "connecting"
        return f"<UpstreamConnection {summary} requests={self.requests}>"

    # -- what the receiver calls ------------------------------------------------------------------

    def send(
        self,
        receiver: Receiver,
        method: str,
        target: str,
        fields: list[tuple[str, str]],
        content_length: int | None = None,
        *,
        chunked: bool = False,
        upgrade: bool = False,
    ) -> None:
        """Send a request head (ClientConnection.send_request) for ``receiver``."""
        self._receiver = receiver
        self.requests += 1
        self._head_seen = False
        self._paused = False
        self.transport.write(
            self._conn.send_request(method, target, fields, content_length, chunked=chunked, upgrade=upgrade)
        )
        self._update_reading()

    def send_body(self, data: bytes) -> None:
        """Send a piece of the request body; nothing once the response has ended or failed."""
        if self._receiver is not None:
            self.transport.write(self._conn.send_data(data))

    def end_body(self) -> None:
        """The request body is complete: from now on the response head is timed."""
        if self._receiver is not None:
            self.transport.write(self._conn.end_request())
            self._update_reading()

    def pause_response(self) -> None:
        """Read no more of the response until ``resume_response``: the client is not keeping up."""
        self._paused = True
        self.transport.pause_reading()

    def resume_response(self) -> None:
        """Pass on the response again, what was read already first."""
        if self._paused:
            self._paused = False
            self.transport.defer(self._deliver)

    def abandon(self) -> None:
        """The client is gone: close this connection (what the backend still sends is for nobody)."""
        self._receiver = None
        self.transport.abort("client gone")

    def hand_over(self, protocol: Protocol) -> bytes:
        """After a 101: the transport goes to ``protocol`` (told ``connection_made``), and this
        connection is no longer ours to frame or pool. Returns what the backend sent after the 101's
        head, for the caller to pass on once the other side is ready."""
        self._receiver = None
        self._pool.forget(self)
        rest = self._conn.take_buffer()
        transport = self.transport
        transport.protocol = protocol
        protocol.connection_made(transport)
        return rest

    # -- transport callbacks ----------------------------------------------------------------------

    def connection_made(self, transport: TransportInterface) -> None:
        self.transport = transport
        transport.pause_reading()  # nothing to read before a request is sent

    def data_received(self, data: bytes) -> None:
        self._conn.receive_data(data)
        if self._receiver is None:
            self.transport.abort("backend sent bytes while idle")
        else:
            self._deliver()

    def eof_received(self) -> bool:
        self._conn.receive_data(b"")
        if self._receiver is not None:
            self._deliver()
        return False

    def timed_out(self, timeout: Timeout) -> None:
        seconds = self._pool.limits.header_timeout
        if self._receiver is None:
            self.transport.abort("idle timeout")  # nothing is queued while idle
        elif timeout is HEADER_TIMEOUT:
            self._fail(504, f"the backend did not answer within {seconds:g} s", retry=False)
        else:
            self._fail(504, f"the backend sent nothing of the response body for {seconds:g} s", retry=False)

    def connection_lost(self, reason: str) -> None:
        self._pool.forget(self)
        if self._receiver is None:
            return
        if reason == "send timeout":  # the transport's own: the backend took none of the request for so long
            self._fail(504, "the backend did not take the request within the timeout", retry=False)
            return
        retry = self.requests > 1 and not self._conn.received
        self._fail(502, f"the backend closed the connection ({reason})", retry=retry)

    def pause_writing(self) -> None:
        if self._receiver is not None:
            self._receiver.pause_request_body()

    def resume_writing(self) -> None:
        if self._receiver is not None:
            self._receiver.resume_request_body()

    # -- the response -----------------------------------------------------------------------------

    def _deliver(self) -> None:
        """Pass the response's events on until more bytes are needed, the receiver pauses, or the
        response ends; then read for what comes next."""
        conn = self._conn
        while (receiver := self._receiver) is not None and not self._paused:
            try:
                event = conn.next_event()
            except ProtocolError as error:
                self._fail(error.status, error.reason, retry=False)
                return
            kind = type(event)
            if kind is Data:
                assert isinstance(event, Data)
                receiver.response_data(event.data)
            elif kind is ResponseHead:
                assert isinstance(event, ResponseHead)
                if event.status < 200 and event.status != 101:
                    continue  # an interim head is not passed on
                self._head_seen = True
                body = conn.take_whole_body()
                if body is not None:
                    self._receiver = None
                    self._done()
                    receiver.response(event, body)
                    return
                receiver.response_head(event)
            elif kind is EndOfMessage:
                self._receiver = None
                self._done()
                receiver.response_end()
                return
            elif event is PEER_CLOSED:
                self._fail(502, "the backend closed the connection without answering", retry=self.requests > 1)
                return
            elif event is NEED_DATA:
                break
            else:
                return  # PAUSED: switched protocols, the transport is someone else's now
        if self._receiver is not None:
            self._update_reading()

    def _done(self) -> None:
        """The response is complete: back to the pool when the connection may carry another request,
        closed otherwise (abort if the request was still being sent: the backend answered early)."""
        conn = self._conn
        if conn.reusable and self._pool.release(self):
            conn.start_next_cycle()
            self._update_reading()
        elif conn.request_complete:
            self.transport.close("not reusable")
        else:
            self.transport.abort("answered before the request was sent")

    def _update_reading(self) -> None:
        """Read for what the cycle waits for, under its timeout (see the module's docstring)."""
        transport = self.transport
        if self._receiver is None:
            transport.resume_reading(KEEPALIVE_TIMEOUT)
        elif self._paused:
            transport.pause_reading()
        elif self._head_seen:
            transport.resume_reading(BODY_TIMEOUT)
        elif self._conn.request_complete:
            transport.resume_reading(HEADER_TIMEOUT)
        else:
            transport.resume_reading(NO_TIMEOUT)

    def _fail(self, status: int, reason: str, *, retry: bool) -> None:
        receiver, self._receiver = self._receiver, None
        self.transport.abort(reason)
        if receiver is not None:
            receiver.response_failed(status, reason, retry)


class UpstreamPool:
    """The connections to one backend at ``addresses`` (tried in order; the one that answered is
    tried first next time), each within ``timeout`` to connect, with the limits of backend_limits.
    At most ``max_idle`` idle ones are kept."""

    def __init__(
        self,
        loop: EventLoop,
        addresses: Sequence[Address],
        timeout: float,
        *,
        max_idle: int = MAX_IDLE,
        base_limits: Limits | None = None,
    ) -> None:
        if not addresses:
            raise ValueError("a backend needs an address")
        self.loop = loop
        self.addresses = list(addresses)
        self.timeout = timeout
        self.limits = backend_limits(timeout, base_limits)
        self.max_idle = max_idle
        self.counters = Counters()
        self.field_lines = FieldLineCache()  # the response field lines its connections parsed before
        self.connects = 0  # connections opened
        self._idle: list[UpstreamConnection] = []  # the last released at the end
        self._open: set[UpstreamConnection] = set()
        self._ids = itertools.count(1)
        self.closed = False

    def __repr__(self) -> str:
        return f"<UpstreamPool {describe(self.addresses[0])} open={len(self._open)} idle={len(self._idle)}>"

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def open(self) -> int:
        return len(self._open)

    @property
    def queued(self) -> int:
        """Request bytes waiting in the send queues of this backend's connections."""
        return sum(upstream.transport.queued for upstream in self._open)

    def take_idle(self) -> UpstreamConnection | None:
        """The idle connection released last, or None."""
        return self._idle.pop() if self._idle else None

    def connect(
        self, on_ready: Callable[[UpstreamConnection], object], on_failed: Callable[[str, bool], object]
    ) -> Connecting:
        """Open a new connection: ``on_ready(connection)`` once it is connected, or ``on_failed(reason,
        timed_out)``; both on the loop, later. ``cancel()`` the result to give up."""

        def connected(sock: socket.socket, address: Address) -> None:
            if self.closed:
                sock.close()
                on_failed("the proxy is closing", False)
                return
            if address != self.addresses[0]:  # it answered where the first did not: try it first next time
                self.addresses.remove(address)
                self.addresses.insert(0, address)
            self.connects += 1
            upstream = UpstreamConnection(self)
            peer = (address[1][0], address[1][1])
            transport = Transport(
                self.loop, sock, peer, upstream, self.limits, ident=next(self._ids), counters=self.counters
            )
            self._open.add(upstream)
            transport.start()
            if transport.state is not CLOSED:
                on_ready(upstream)

        return Connecting(self.loop, self.addresses, self.timeout, connected, on_failed)

    def release(self, upstream: UpstreamConnection) -> bool:
        """Keep ``upstream`` for the next request; False (and nothing kept) when the pool is full or
        closed."""
        if self.closed or len(self._idle) >= self.max_idle:
            return False
        self._idle.append(upstream)
        return True

    def forget(self, upstream: UpstreamConnection) -> None:
        """``upstream`` is closed or no longer ours: neither idle nor open from now on."""
        self._open.discard(upstream)
        if upstream in self._idle:
            self._idle.remove(upstream)

    def close(self) -> None:
        """Close every connection, idle or busy, now; open no more."""
        self.closed = True
        for upstream in list(self._open):
            upstream.transport.abort("proxy closed")
        self._open.clear()
        self._idle.clear()
