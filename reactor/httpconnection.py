"""HTTP/1.1 on a transport: the protocol that feeds a sans-IO ServerConnection with what the transport
reads and hands each request to the handler through an Exchange, which writes its response itself.

The transport (transport.py) owns the socket, the send queue, the I/O states and the timer; the
ServerConnection (http/connection.py) owns the protocol's rules and bytes; the Exchange (exchange.py)
turns a handler's answer into bytes for the transport. What is left here is the policy between them:
what the transport reads for (a head, a body, the next request: each with its timeout), what a timeout
means (408 while a request is owed), when the next pipelined request may be handled (once the handler
has returned and the previous response is queued, never before), and when the connection ends.

One request is one pass down the stack: bytes in, ``ServerConnection.next_event``, the handler, the
response bytes out; the next cycle starts after the handler returns. A response that ends later (from
a timer or a thread) runs the next pass through the transport (``Transport.defer``), after whatever
callback of the connection is running: nothing here is ever re-entered.

The usual request is shorter still (``data_received``, ``_answer_at_once``): a read that is one whole
head, for which the handler has its answer made before (a cached file, a known 404), is answered in
one step with no Exchange, in the same bytes as the long way (tests/reactor/test_at_once.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import FunctionType
from typing import TypeVar

from reactor.exchange import (
    JOIN_LIMIT,
    AccessLog,
    Exchange,
    Handler,
    PreparedAnswer,
    handler_failed,
    response_counts,
)
from reactor.http.errors import ProtocolError
from reactor.http.events import NEED_DATA, PAUSED, Data, EndOfMessage, Request
from reactor.http.fields import FieldLineCache
from reactor.http.parser import HeadCache, RequestLineCache
from reactor.http.serverconnection import ServerConnection
from reactor.http.state import BODY_PHASES, DONE, DRAINING_BODY, IDLE, MUST_CLOSE, Phase, Transition
from reactor.http.writer import PreparedResponse
from reactor.limits import Limits
from reactor.loop.clock import HttpDate
from reactor.net.iostate import BODY_TIMEOUT, HEADER_TIMEOUT, KEEPALIVE_TIMEOUT, Timeout
from reactor.net.transport import Protocol, TransportInterface

logger = logging.getLogger(__name__)

Result = TypeVar("Result")


class ConnectionConfig:
    """What every HTTP connection of one server shares."""

    __slots__ = (
        "handler",
        "prepared_answer",
        "limits",
        "access_log",
        "advice",
        "http_date",
        "protocol",
        "field_lines",
        "request_lines",
        "heads",
    )

    def __init__(
        self,
        handler: Handler,
        limits: Limits,
        access_log: AccessLog | None = None,
        protocol: str = "HTTP/1.1",
        advice: Mapping[int, str] | None = None,
    ) -> None:
        self.handler = bound_call(handler)
        # A handler may also have its answers made before (PreparedAnswer): asked first, and what it
        # gives goes out without an Exchange (HTTPConnection._answer_at_once).
        self.prepared_answer: PreparedAnswer | None = getattr(handler, "prepared_answer", None)
        self.limits = limits
        self.access_log = access_log
        # By status, what a protocol error's page adds to its reason: the way past the limit that
        # refused the request, in the words of whoever configured it (the sans-IO core knows no CLI).
        self.advice = advice or {}
        self.http_date = HttpDate()
        self.protocol = protocol  # the HTTP version responses speak (-p/--protocol)
        self.field_lines = FieldLineCache()  # request field lines parsed before, by any connection
        self.request_lines = RequestLineCache()  # and request lines
        self.heads = HeadCache()  # and whole heads

    def server_connection(self) -> ServerConnection:
        """A new sans-IO connection with this server's limits, clock and HTTP version."""
        limits = self.limits
        return ServerConnection(
            max_request_line=limits.max_request_line,
            max_head=limits.max_head,
            max_headers=limits.max_headers,
            max_body=limits.max_body,
            max_discard=limits.max_discard,
            date=self.http_date.__call__,  # the bound method: calling the object looks it up each time
            protocol=self.protocol,
            field_lines=self.field_lines,
            request_lines=self.request_lines,
            heads=self.heads,
        )


def bound_call(function: Callable[..., Result]) -> Callable[..., Result]:
    """``function``, or when it is an object of a class that defines ``__call__`` in Python, its bound
    ``__call__``: calling the object itself looks ``__call__`` up on its type on every call (CPython's
    slot_tp_call), about a thousand instructions that a bound method does not pay."""
    call = next((vars(klass)["__call__"] for klass in type(function).__mro__ if "__call__" in vars(klass)), None)
    if isinstance(call, FunctionType):
        bound: Callable[..., Result] = call.__get__(function)
        return bound
    return function


def refuse_plain_http(config: ConnectionConfig) -> bytes:
    """The whole answer to a plain-HTTP request on a TLS port: a 400 that says to use https, as nginx
    gives, after which the connection closes. What the client asked is never read."""
    return config.server_connection().send_error(400, "This port speaks HTTPS: use an https:// URL.")


class HTTPConnection(Protocol):
    """Reads requests and hands each to the handler through an Exchange, one cycle at a time."""

    def __init__(self, config: ConnectionConfig) -> None:
        self._handler = config.handler
        self._access_log = config.access_log
        self._advice = config.advice
        self._conn = config.server_connection()
        self._prepared_answer = config.prepared_answer  # the handler's answers made before
        self._exchange: Exchange | None = None
        self.requests = 0
        self._writing_paused = False  # the transport said pause_writing: handle no more requests
        self._trace: Callable[[str, str], None] | None = None

    def __repr__(self) -> str:
        return f"<HTTPConnection {self.transport.summary()} phase={self._conn.phase.value}>"

    @property
    def long_lived(self) -> bool:
        """Whether the response being sent is a long-lived stream (Exchange.mark_long_lived)."""
        return self._exchange is not None and self._exchange.long_lived

    # -- transport callbacks ----------------------------------------------------------------------

    def connection_made(self, transport: TransportInterface) -> None:
        self.transport = transport
        self._trace = transport.trace
        if self._trace is not None:
            self._conn.observer = self._trace_phase  # and so no answer goes out at once: each hop is told
        transport.resume_reading(HEADER_TIMEOUT)

    def data_received(self, data: bytes) -> None:
        conn = self._conn
        request = None
        if conn.phase is IDLE and not (self._writing_paused or self.transport.closing):
            # The usual read is one whole request head: taken as it came, without the buffer.
            try:
                request = conn.whole_request(data)
            except ProtocolError as error:
                self._on_protocol_error(error)
                return
        if request is None:
            conn.receive_data(data)
        else:
            response = self._prepared_answer(request) if self._prepared_answer is not None else None
            if response is not None and self._answer_at_once(request, response):
                return  # answered, and the transport told what to read for, or to close
            self._handle(request, response)
        self._serve()

    def eof_received(self) -> bool:
        self._conn.receive_data(b"")
        self._serve()
        return True  # the parser turns the end into PEER_CLOSED or a 400; the close follows from there

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        # Told from inside a handler's write as often as from the loop: the next pass runs after the
        # one that may be running, never inside it.
        self._writing_paused = False
        self.transport.defer(self._serve)

    def timed_out(self, timeout: Timeout) -> None:
        if (timeout is HEADER_TIMEOUT or timeout is BODY_TIMEOUT) and not self._conn.response_started:
            # RFC 9110 15.5.9: 408 tells the client we gave up waiting for its request.
            self._answer_error(408, "timed out waiting for the request", "request timeout")
        else:
            self.transport.abort(f"{timeout.value} timeout")

    def connection_lost(self, reason: str) -> None:
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.connection_lost()

    # -- requests in ------------------------------------------------------------------------------

    def _serve(self) -> None:
        """Hand request events to the handler until the connection needs bytes, the handler owes the
        next move, or the peer is not taking our output; then tell the transport what to read for.
        Each request is handled once the previous response is queued: a pipeline is answered in
        order, in one pass when the handler answers at once."""
        conn = self._conn
        transport = self.transport
        while not (self._writing_paused or transport.closing):
            exchange = self._exchange
            if exchange is not None and exchange.body_paused and conn.phase in BODY_PHASES:
                break
            try:
                event = conn.next_event()
            except ProtocolError as error:
                self._on_protocol_error(error)
                return
            if type(event) is Request:
                self._handle(event)
            elif event is NEED_DATA:
                break
            elif type(event) is Data:
                assert exchange is not None
                try:
                    exchange.body_received(event.data)
                except Exception:
                    handler_failed(exchange)
            elif type(event) is EndOfMessage:
                assert exchange is not None
                try:
                    exchange.body_complete()
                except Exception:
                    handler_failed(exchange)
            elif event is PAUSED:
                if exchange is not None and not exchange.finished:
                    break  # the response is still owed
                self._after_response()
            else:
                transport.close("peer closed")
                return
        if transport.closing:
            return
        # Tell the transport what the connection reads for now, and so which timeout runs.
        phase = conn.phase
        if phase is IDLE:
            # The header timeout bounds a whole head, from its first byte (or from the accept).
            transport.resume_reading(HEADER_TIMEOUT if conn.buffered or not self.requests else KEEPALIVE_TIMEOUT)
        elif phase in BODY_PHASES and not (self._exchange is not None and self._exchange.body_paused):
            transport.resume_reading(BODY_TIMEOUT)
        else:
            transport.pause_reading()

    def _handle(self, request: Request, response: PreparedResponse | None = None) -> None:
        """Hand ``request`` to the handler through an Exchange, or send ``response``, the handler's
        answer made before (ConnectionConfig.prepared_answer), as the handler would; then move the
        cycle on if the response has ended."""
        self.requests += 1
        transport = self.transport
        transport.counters.requests += 1
        if self._trace is not None:
            self._trace("request", request.request_line)
        conn = self._conn
        exchange = self._exchange = Exchange(request, conn, transport, self._access_log)
        try:
            if response is None:
                self._handler(exchange)
            else:
                exchange.respond_prepared(response)
        except Exception:
            handler_failed(exchange)
        if not exchange.finished:
            exchange._resume = self._resume  # the handler owes the next move
        elif conn.phase is DONE:  # answered at once, the usual case: on to the next request
            self._exchange = None
            conn.start_next_cycle()
        else:
            self._after_response()

    def _answer_at_once(self, request: Request, response: PreparedResponse) -> bool:
        """Send ``response``, the handler's answer to ``request`` made before, with the cycle's and
        the exchange's hops done in one step: what ``_handle`` then ``_serve`` would do, with the same
        bytes, counts and state (tests/reactor/test_at_once.py holds the two ways to it). False, with
        nothing done, where the sans-IO connection cannot send it so (send_prepared_at_once)."""
        answer = self._conn.send_prepared_at_once(response)
        if answer is None:
            return False
        head, body = answer
        self.requests += 1
        transport = self.transport
        transport.counters.requests += 1
        if len(body) <= JOIN_LIMIT:
            transport.send_now(head + body)  # the only bytes of this read: no need to wait for its end
        else:
            transport.write(head)
            transport.write(body)
        self._sent_without_exchange(request, response.status, len(body))
        if self._conn.phase is IDLE:
            transport.resume_reading(KEEPALIVE_TIMEOUT)
        else:
            self._after_response()  # the connection ends with this response
        return True

    def _resume(self) -> None:
        """The handler, after it returned, ended its response or wants its body again: on with the
        cycle (deferred by the exchange: never inside another pass)."""
        exchange = self._exchange
        if exchange is not None and exchange.finished:
            self._after_response()
        self._serve()

    def _after_response(self) -> None:
        """The response has ended: the next cycle if the request is in too, the close if the
        connection does not persist; otherwise the rest of the body is read (and dropped)."""
        conn = self._conn
        phase = conn.phase
        if phase is DONE:
            self._exchange = None
            conn.start_next_cycle()
        elif phase is MUST_CLOSE or (phase is DRAINING_BODY and not conn.keep_alive):
            exchange, self._exchange = self._exchange, None
            # Linger while the peer may still be sending: a body, pipelined bytes, or the next request
            # of a client that asked to keep the connection (RFC 9112 9.6: a close with its bytes
            # unread resets the connection, which can destroy this response before it is read). The
            # client of a long-lived stream sends its next request only after it has read the end.
            request = conn.request
            streamed = exchange is not None and exchange.long_lived
            wanted_more = request is not None and request.keep_alive and not streamed
            self.transport.close(linger=phase is DRAINING_BODY or conn.buffered > 0 or wanted_more)

    def _on_protocol_error(self, error: ProtocolError) -> None:
        logger.debug("%r: protocol error %d: %s", self, error.status, error.reason)
        if self._trace is not None:
            self._trace("error", f"{error.status} {error.reason}")
        if self._conn.response_started:
            # Too late for an error response: the status line has gone out. Close after what is queued.
            exchange, self._exchange = self._exchange, None
            if exchange is not None:
                exchange.connection_lost()
            self.transport.close("protocol error", linger=True)
            return
        advice = self._advice.get(error.status)
        self._answer_error(error.status, f"{error.reason} ({advice})" if advice else error.reason, "protocol error")

    def _answer_error(self, status: int, detail: str, reason: str) -> None:
        """Send an error response of our own (no response has started) and close after it."""
        conn = self._conn
        request = conn.request
        data = conn.send_error(status, detail)
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.connection_lost()
        transport = self.transport
        transport.write(data)
        body_bytes = conn.body_bytes if conn.sends_body else 0
        if self._trace is not None:
            self._trace("response", f"{status} body={body_bytes}")
        self._sent_without_exchange(request, status, body_bytes)
        transport.close(reason, linger=True)

    def _sent_without_exchange(self, request: Request | None, status: int, body_bytes: int) -> None:
        """Count a response just written with no Exchange (an error of our own, an answer sent at
        once), and with an access log, log it once it has left, as Exchange does its own."""
        transport = self.transport
        response_counts(transport.counters, request.method if request else "")[status // 100] += 1
        if self._access_log is not None:
            request_line = request.request_line if request else "-"
            end = transport.written
            transport.when_sent(self._logged, request_line, status, end - body_bytes, end)

    def _logged(self, sent: int, request_line: str, status: int, body_at: int, end: int) -> None:
        """The access log line of a response sent with no Exchange (an error response of our own, an
        answer sent at once), once it has left (or the connection ended first)."""
        assert self._access_log is not None
        self._access_log(self.transport.address[0], "-", request_line, status, max(0, min(sent, end) - body_at))

    # -- closing ----------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Server shutdown: an idle connection closes now; a busy one closes after its response, and a
        long-lived stream, which has no end of its own, is ended now (its client reconnects later)."""
        if self.transport.closing:
            return
        conn = self._conn
        if conn.phase is IDLE and not conn.buffered:
            # Between requests. What is queued may still be the end of a response (the cycle moves on
            # once the last byte is queued, not sent): let it go, then close; read nothing more.
            self.transport.close("shutdown")
        else:
            conn.close_after_response()
            exchange = self._exchange
            if exchange is not None and exchange.long_lived:
                exchange.end()

    def _trace_phase(self, old: Phase, new: Phase, transition: Transition) -> None:
        assert self._trace is not None
        self._trace("phase", f"{old.value} -> {new.value} ({transition.value})")
