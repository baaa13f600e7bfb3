"""HTTP/1.1 on a transport: the protocol that feeds a sans-IO ServerConnection with what the transport
reads, hands each request to the handler through an Exchange, and writes the response bytes back.

The transport (transport.py) owns the socket, the send queue, the I/O states and the timer; the
ServerConnection (http/connection.py) owns the protocol's rules and bytes. What is left here is the
policy between them: what the transport reads for (a head, a body, the next request: each with its
timeout), what a timeout means (408 while a request is owed), when the next pipelined request may be
handled (after the previous response is queued, never before), and when the connection ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import BinaryIO

from reactor.clock import HttpDate
from reactor.exchange import Exchange, Handler
from reactor.http.connection import Fields, ServerConnection
from reactor.http.errors import ProtocolError, StateError
from reactor.http.events import CLOSED, Data, EndOfMessage, Request
from reactor.http.fields import FieldLineCache
from reactor.http.parser import RequestLineCache
from reactor.http.state import BODY_PHASES, DONE, DRAINING_BODY, IDLE, MUST_CLOSE, Phase, Transition
from reactor.http.writer import PreparedResponse
from reactor.iostate import BODY, HEAD, KEEP_ALIVE, Timeout
from reactor.limits import Limits
from reactor.loop import EventLoop
from reactor.transport import Protocol, Transport

logger = logging.getLogger("reactor.connection")

_JOIN_LIMIT = 16 * 1024  # bodies up to this size leave in the same buffer as their head
# Responses are counted by method: these (RFC 9110 9.3 and PATCH) by name, any other token as "other",
# so that clients cannot grow the counters without bound; "" when no request head could be read.
_COUNTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


class ConnectionConfig:
    """What every HTTP connection of one server shares."""

    __slots__ = ("handler", "limits", "access_log", "http_date", "protocol", "field_lines", "request_lines")

    def __init__(
        self,
        handler: Handler,
        limits: Limits,
        access_log: Callable[[str, str, int, int], None] | None = None,
        protocol: str = "HTTP/1.1",
    ) -> None:
        self.handler = handler
        self.limits = limits
        self.access_log = access_log
        self.http_date = HttpDate()
        self.protocol = protocol  # the HTTP version responses speak (-p/--protocol)
        self.field_lines = FieldLineCache()  # request field lines parsed before, by any connection
        self.request_lines = RequestLineCache()  # and request lines

    def server_connection(self) -> ServerConnection:
        """A new sans-IO connection with this server's limits, clock and HTTP version."""
        limits = self.limits
        return ServerConnection(
            max_request_line=limits.max_request_line,
            max_head=limits.max_head,
            max_headers=limits.max_headers,
            max_body=limits.max_body,
            max_discard=limits.max_discard,
            date=self.http_date,
            protocol=self.protocol,
            field_lines=self.field_lines,
            request_lines=self.request_lines,
        )


def refuse_plain_http(config: ConnectionConfig) -> bytes:
    """The whole answer to a plain-HTTP request on a TLS port: a 400 that says to use https, as nginx
    gives, after which the connection closes. What the client asked is never read."""
    return config.server_connection().send_error(400, "This port speaks HTTPS: use an https:// URL.")


class HTTPConnection(Protocol):
    """Reads requests, hands each to the handler through an Exchange, and sends responses in order."""

    def __init__(self, config: ConnectionConfig) -> None:
        self._handler = config.handler
        self._access_log = config.access_log
        self._conn = config.server_connection()
        self._exchange: Exchange | None = None
        self.requests = 0
        self._writing_paused = False  # the transport said pause_writing: handle no more requests
        self._dispatching = False  # inside _process: a response that ends now is followed by that pass
        self._trace: Callable[[str, str], None] | None = None

    def __repr__(self) -> str:
        return f"<HTTPConnection {self.transport.summary()} phase={self._conn.phase.value}>"

    # -- what the exchange reads ------------------------------------------------------------------

    @property
    def loop(self) -> EventLoop:
        return self.transport.loop

    @property
    def client_address(self) -> tuple[str, int]:
        return self.transport.address

    @property
    def server_address(self) -> tuple[str, int]:
        return self.transport.server_address

    @property
    def queued(self) -> int:
        return self.transport.queued

    # -- transport callbacks ----------------------------------------------------------------------

    def connection_made(self, transport: Transport) -> None:
        self.transport = transport
        self._responses = transport.counters.responses
        self._trace = transport.trace
        if self._trace is not None:
            self._conn.observer = self._trace_phase
        transport.resume_reading(HEAD)

    def data_received(self, data: bytes) -> None:
        self._conn.receive_data(data)
        self._process()

    def eof_received(self) -> bool:
        self._conn.receive_data(b"")
        self._process()
        return True  # the parser turns the end into CLOSED or a 400; the close follows from there

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        if not self._dispatching:
            self._process()

    def timed_out(self, timeout: Timeout) -> None:
        if (timeout is HEAD or timeout is BODY) and not self._conn.response_started:
            # RFC 9110 15.5.9: 408 tells the client we gave up waiting for its request.
            self._answer_error(408, "timed out waiting for the request", "request timeout")
        else:
            self.transport.abort(f"{timeout.value} timeout")

    def connection_lost(self, reason: str) -> None:
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.connection_lost()

    # -- requests in ------------------------------------------------------------------------------

    def _process(self) -> None:
        """Hand request events to the exchange until the connection needs bytes, the handler owes the
        next move, or the peer is not taking our output; then tell the transport what to read for. A
        response that ends while this runs is followed by this same pass (a pipeline is answered in
        one go); one that ends later, from a timer or a thread, starts a new pass."""
        self._dispatching = True
        conn = self._conn
        transport = self.transport
        try:
            while not self._writing_paused and not transport.closing:
                exchange = self._exchange
                if exchange is not None and exchange.body_paused and conn.phase in BODY_PHASES:
                    break
                try:
                    event = conn.next_event()
                except ProtocolError as error:
                    self._on_protocol_error(error)
                    break
                if type(event) is Request:
                    self._begin_exchange(event)
                elif type(event) is Data:
                    assert exchange is not None
                    try:
                        exchange.body_received(event.data)
                    except Exception:
                        self._handler_failed(exchange)
                elif type(event) is EndOfMessage:
                    assert exchange is not None
                    try:
                        exchange.body_complete()
                    except Exception:
                        self._handler_failed(exchange)
                    self._end_cycle_if_done()
                elif event is CLOSED:
                    transport.close("peer closed")
                else:
                    break  # NEED_DATA, or PAUSED until the handler answers
        finally:
            self._dispatching = False
        if transport.closing:
            return
        # Tell the transport what the connection reads for now, and so which timeout runs.
        phase = conn.phase
        if phase is IDLE:
            # The header timeout bounds a whole head, from its first byte (or from the accept).
            transport.resume_reading(HEAD if conn.buffered or not self.requests else KEEP_ALIVE)
        elif phase in BODY_PHASES and not (self._exchange is not None and self._exchange.body_paused):
            transport.resume_reading(BODY)
        else:
            transport.pause_reading()

    def _begin_exchange(self, request: Request) -> None:
        self.requests += 1
        self.transport.counters.requests += 1
        if self._trace is not None:
            self._trace("request", request.request_line)
        exchange = Exchange(self, request)
        self._exchange = exchange
        try:
            self._handler(exchange)
        except Exception:
            self._handler_failed(exchange)

    def _handler_failed(self, exchange: Exchange) -> None:
        """Handler code raised: a bug in the handler, not a reason to stop serving. Log it, deliver
        no more of the body to it, and answer 500, or end the connection if the response has begun
        (its status line is gone: only a cut-short body can tell the client). The loop lives on."""
        logger.exception("handler failed on %r", exchange.request)
        exchange.stop_body_delivery()
        exchange.fail()

    def _call_handler(self, exchange: Exchange, callback: Callable[[], object]) -> None:
        """Run a callback of ``exchange``'s handler that the connection scheduled."""
        try:
            callback()
        except Exception:
            self._handler_failed(exchange)

    # -- what the exchange calls ------------------------------------------------------------------

    def respond(self, exchange: Exchange, status: int, fields: Fields, body: bytes, close: bool) -> None:
        """A whole response with a bytes body. Raises ValueError, before anything is sent, for a
        field or status that cannot be sent."""
        if len(body) <= _JOIN_LIMIT:
            # One buffer, one send: copying a small body is cheaper than a second syscall or a gather.
            data = self._conn.send_response(status, fields, body, close=close, reads_body=exchange.reads_body)
            self.transport.write(data)
        else:
            conn = self._conn
            self.transport.write(
                conn.start_response(status, fields, len(body), close=close, reads_body=exchange.reads_body)
            )
            self.transport.write(conn.send_data(body))
            conn.end_response()  # with a Content-Length, nothing follows the body
        self._response_ended(exchange.request, status)

    def respond_prepared(self, exchange: Exchange, response: PreparedResponse, close: bool) -> None:
        """A whole response made once and sent many times (PreparedResponse)."""
        head, body = self._conn.send_prepared(response, close=close, reads_body=exchange.reads_body)
        if len(body) <= _JOIN_LIMIT:
            self.transport.write(head + body)
        else:
            self.transport.write(head)
            self.transport.write(body)
        self._response_ended(exchange.request, response.status)

    def start_response(
        self, exchange: Exchange, status: int, fields: Fields, content_length: int | None, close: bool
    ) -> None:
        """Send the response head. Raises ValueError as respond does."""
        head = self._conn.start_response(status, fields, content_length, close=close, reads_body=exchange.reads_body)
        self.transport.write(head)

    def write_body(self, data: bytes) -> None:
        """Send a piece of the body. Raises StateError past the declared Content-Length."""
        framed = self._conn.send_data(data)
        if framed:
            self.transport.write(framed)

    def write_file(self, file: BinaryIO, offset: int, count: int, owns_file: bool) -> None:
        """Send ``count`` bytes of ``file`` as a piece of the body. Raises StateError as write_body
        does; with ``owns_file`` the file is closed in every case."""
        conn = self._conn
        try:
            before, after = conn.send_file(count)
        except StateError:
            if owns_file:
                file.close()
            raise
        if not conn.sends_body:
            if owns_file:
                file.close()
            return
        transport = self.transport
        if before:
            transport.write(before)
        transport.write_file(file, offset, count, owns_file)
        if after:
            transport.write(after)

    def end_response(self, exchange: Exchange) -> None:
        """Finish the response. Raises StateError, sending nothing, when a declared length was not met."""
        tail = self._conn.end_response()
        if tail:
            self.transport.write(tail)
        self._response_ended(exchange.request, exchange.status)

    def send_continue(self) -> None:
        """Invite the body of a request that expects 100 (Continue), if it is still owed."""
        interim = self._conn.send_continue()
        if interim:
            self.transport.write(interim)

    def resume_body(self) -> None:
        """The exchange's handler wants body data again."""
        if not self._dispatching:
            self._process()

    def when_drained(self, exchange: Exchange, callback: Callable[[], object]) -> None:
        """Run ``callback`` (code of ``exchange``'s handler) once the send queue is at or below the
        low-water mark."""
        self.transport.when_drained(self._call_handler, exchange, callback)

    def abort(self, reason: str) -> None:
        self.transport.abort(reason)

    # -- responses out ----------------------------------------------------------------------------

    def _response_ended(self, request: Request, status: int) -> None:
        """The last byte of a response is queued: log it, and go on to the next cycle or the close."""
        if self._access_log is not None:
            self._access_log(self.transport.address[0], request.request_line, status, self._conn.body_bytes)
        if self._trace is not None:
            self._trace("response", f"{status} body={self._conn.body_bytes}")
        counts = self._responses.get(request.method)  # a method seen before: its own counts, or "other"'s
        if counts is None:
            counts = self._counts_for(request.method)
        counts[status // 100] += 1
        self._end_cycle_if_done()
        if not self._dispatching:  # a response that ends later than its request starts a pass
            self._process()

    def _end_cycle_if_done(self) -> None:
        conn = self._conn
        phase = conn.phase
        if phase is DONE:
            self._exchange = None
            conn.start_next_cycle()
        elif phase is MUST_CLOSE or (phase is DRAINING_BODY and not conn.keep_alive):
            self._exchange = None
            # Linger while the peer may still be sending: a body, pipelined bytes, or the next request
            # of a client that asked to keep the connection (RFC 9112 9.6: a close with its bytes
            # unread resets the connection, which can destroy this response before it is read).
            request = conn.request
            wanted_more = request is not None and request.keep_alive
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
        self._answer_error(error.status, error.reason, "protocol error")

    def _answer_error(self, status: int, detail: str, reason: str) -> None:
        """Send an error response of our own (no response has started) and close after it."""
        conn = self._conn
        request = conn.request
        data = conn.send_error(status, detail)
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.connection_lost()
        self.transport.write(data)
        body_bytes = conn.body_bytes if conn.sends_body else 0
        if self._trace is not None:
            self._trace("response", f"{status} body={body_bytes}")
        if self._access_log is not None:
            self._access_log(self.transport.address[0], request.request_line if request else "-", status, body_bytes)
        self._counts_for(request.method if request else "")[status // 100] += 1
        self.transport.close(reason, linger=True)

    def _counts_for(self, method: str) -> list[int]:
        """The counts of responses to ``method`` by status class, made on first use: its own for a
        standard method (or no method: ""), "other"'s for any other."""
        key = method if method in _COUNTED_METHODS or not method else "other"
        return self._responses.setdefault(key, [0] * 10)  # a status is 100 to 999 (status_line)

    # -- closing ----------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Server shutdown: an idle connection closes now; a busy one closes after its response."""
        if self.transport.closing:
            return
        conn = self._conn
        if conn.phase is IDLE and not conn.buffered:
            # Between requests. What is queued may still be the end of a response (the cycle moves on
            # once the last byte is queued, not sent): let it go, then close; read nothing more.
            self.transport.close("shutdown")
        else:
            conn.close_after_response()

    def _trace_phase(self, old: Phase, new: Phase, transition: Transition) -> None:
        assert self._trace is not None
        self._trace("phase", f"{old.value} -> {new.value} ({transition.value})")
