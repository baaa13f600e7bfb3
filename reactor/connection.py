"""One HTTP/1.1 connection as an explicit I/O state machine.

States: READING (wants request bytes), WAITING (the handler owes the next move), WRITING (send queue
above the high-water mark: reading stops until it falls below the low mark), CLOSING (the last response
drains), LINGERING (our side is shut down; we read and drop what the peer still sends until it
closes, so our close cannot reset a response it has not read yet), CLOSED.
Every change goes through ``_set_state``, which checks the transition against IO_TRANSITIONS, and
``_update_interest`` derives the selector mask from the state and the send queue: read interest only
while reading, write interest only while bytes are queued.
"""

from __future__ import annotations

import enum
import logging
import socket
from collections.abc import Callable
from functools import partial
from typing import BinaryIO

from reactor.clock import HttpDate
from reactor.errors import is_peer_gone
from reactor.exchange import ERROR_CONTENT_TYPE, Exchange, Handler
from reactor.http.errors import ProtocolError
from reactor.http.events import CLOSED, NEED_DATA, PAUSED, Data, EndOfMessage, Request
from reactor.http.parser import RequestParser
from reactor.http.state import BODY_PHASES, Phase, Transition
from reactor.http.writer import ResponseWriter, encode_fields, error_page, interim_continue
from reactor.limits import Limits
from reactor.loop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.sendqueue import FileShrunkError, SendQueue
from reactor.timers import Deadline
from reactor.trace import Tracer

logger = logging.getLogger("reactor.connection")

_ERROR_FIELDS = encode_fields([ERROR_CONTENT_TYPE])


class IOState(enum.Enum):
    __hash__ = object.__hash__  # identity, in C: states are looked up in sets on every transition

    READING = "reading"
    WAITING = "waiting"
    WRITING = "writing"
    CLOSING = "closing"
    LINGERING = "lingering"
    CLOSED = "closed"


S = IOState
IO_TRANSITIONS: dict[IOState, frozenset[IOState]] = {
    S.READING: frozenset({S.WAITING, S.WRITING, S.CLOSING, S.CLOSED}),
    S.WAITING: frozenset({S.READING, S.WRITING, S.CLOSING, S.CLOSED}),
    S.WRITING: frozenset({S.READING, S.WAITING, S.CLOSING, S.CLOSED}),
    S.CLOSING: frozenset({S.LINGERING, S.CLOSED}),
    S.LINGERING: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}


class Counters:
    """Totals shared by every connection of a server; read through Server.statistics()."""

    __slots__ = ("requests", "bytes_received", "bytes_sent", "closes")

    def __init__(self) -> None:
        self.requests = 0
        self.bytes_received = 0
        self.bytes_sent = 0
        self.closes: dict[str, int] = {}


class ConnectionConfig:
    """What every connection of one server shares."""

    __slots__ = ("loop", "handler", "limits", "http_date", "access_log", "counters", "on_closed", "tracer")

    def __init__(
        self,
        loop: EventLoop,
        handler: Handler,
        limits: Limits,
        access_log: Callable[[str, str, int, int], None] | None,
        on_closed: Callable[[HTTPConnection], None],
        tracer: Tracer | None = None,
    ) -> None:
        self.loop = loop
        self.tracer = tracer if tracer is not None and tracer.connections else None
        self.handler = handler
        self.limits = limits
        self.access_log = access_log
        self.on_closed = on_closed
        self.http_date = HttpDate()
        self.counters = Counters()


class HTTPConnection:
    """Reads requests, hands each to the handler through an Exchange, and sends responses in order."""

    def __init__(self, config: ConnectionConfig, sock: socket.socket, address: tuple[str, int], ident: int) -> None:
        limits = config.limits
        self.id = ident
        self.sock = sock
        self.address = address
        self.loop = config.loop
        self.http_date = config.http_date
        self.state = IOState.READING
        self.close_reason = ""
        self.requests = 0
        self._config = config
        self._limits = limits
        self._handler = config.handler
        self._access_log = config.access_log
        self._counters = config.counters
        self._parser = RequestParser(
            max_request_line=limits.max_request_line,
            max_head=limits.max_head,
            max_headers=limits.max_headers,
            max_body=limits.max_body,
        )
        self._cycle = self._parser.cycle
        self._queue = SendQueue()
        self._exchange: Exchange | None = None
        self._deadline = Deadline(self.loop, self._on_timeout)
        # What the armed timer waits for ("" for nothing); None makes the next _arm_timeout re-arm.
        self._timeout_kind: str | None = None
        self._events = 0
        self._pumping = False
        self._closing = False  # close once the queue drains
        self._linger = False  # and read what the peer still sends before closing
        self._linger_until = 0.0
        self._drain_waiters: list[tuple[Exchange, Callable[[], object]]] = []
        self._server_address: tuple[str, int] | None = None
        # --trace: a line per fact of this connection's life; None (the usual case) costs one test.
        self._trace: Callable[[str, str], None] | None = None
        if config.tracer is not None:
            self._trace = partial(config.tracer.connection, ident)
            self._trace("accept", f"from={address[0]}:{address[1]} fd={sock.fileno()}")
            self._queue.observer = self._trace
            self._cycle.observer = self._trace_phase
        self._arm_timeout()

    def start(self) -> None:
        """Read at once, then watch the socket. A client sends its request right behind the handshake,
        so it is usually here already: a short exchange is answered, and even closed, without the
        connection ever being registered with the selector (two epoll_ctl calls and a loop pass saved)."""
        self.on_readable()
        if self.state is not IOState.CLOSED:
            self._update_interest()

    def __repr__(self) -> str:
        fd = self.sock.fileno() if self.state is not IOState.CLOSED else -1
        return (
            f"<HTTPConnection #{self.id} fd={fd} {self.address[0]}:{self.address[1]} {self.state.value}"
            f" phase={self._cycle.phase.value} queued={self._queue.size}>"
        )

    # -- what the exchange uses -------------------------------------------------------------------

    @property
    def server_address(self) -> tuple[str, int]:
        """The local address of the socket, asked of the kernel once (a WSGI environ wants it per request)."""
        if self._server_address is None:
            name = self.sock.getsockname()
            self._server_address = (name[0], name[1])
        return self._server_address

    @property
    def queued(self) -> int:
        return self._queue.size

    def queue_bytes(self, data: bytes) -> None:
        if self.state is not IOState.CLOSED:
            self._queue.push_bytes(data)
            if self._trace is not None:
                self._trace("queue", f"bytes={len(data)} queued={self._queue.size}")
            if not self._pumping:  # inside a pump, the running one sends it
                self.pump()

    def queue_file(self, file: BinaryIO, offset: int, count: int, owns_file: bool) -> None:
        if self.state is IOState.CLOSED:
            if owns_file:
                file.close()
            return
        self._queue.push_file(file, offset, count, owns_file)
        if self._trace is not None:
            self._trace("queue", f"file fd={file.fileno()} offset={offset} count={count} queued={self._queue.size}")
        if not self._pumping:
            self.pump()

    def when_drained(self, exchange: Exchange, callback: Callable[[], object]) -> None:
        """Schedule ``callback`` (code of ``exchange``'s handler) for when the send queue is at or
        below the low-water mark."""
        if self.state is IOState.CLOSED:
            return
        if self._queue.size <= self._limits.low_water:
            self.loop.call_soon(self._call_handler, exchange, callback)
        else:
            self._drain_waiters.append((exchange, callback))

    def send_continue(self) -> None:
        self.queue_bytes(interim_continue())

    def disable_keep_alive(self) -> None:
        self._cycle.disable_keep_alive()

    def response_starting(self, exchange: Exchange, close: bool) -> bool:
        """Record the response start; return whether the connection may persist after it."""
        cycle = self._cycle
        if close:
            cycle.disable_keep_alive()
        if cycle.phase is Phase.RECEIVING_BODY and not exchange.reads_body:
            # Answering before the body is in (a POST to a static file). RFC 9110 15.5: a server that
            # does not read the body must drain it or close. Drain only what is small and known.
            if exchange.request.expect_continue and not exchange.continue_sent:
                cycle.disable_keep_alive()  # the client may or may not send the body now
            else:
                remaining = self._parser.body_remaining()
                if remaining is None or remaining > self._limits.max_discard:
                    cycle.disable_keep_alive()
        cycle.apply(Transition.RESPONSE_START)
        return cycle.keep_alive

    def response_ended(self, exchange: Exchange, body_bytes: int) -> None:
        """The exchange queued its last byte: log it and move the cycle on."""
        if self._access_log is not None:
            self._access_log(self.address[0], exchange.request.request_line, exchange.status, body_bytes)
        if self._trace is not None:
            self._trace("response", f"{exchange.status} body={body_bytes}")
        self._cycle.apply(Transition.RESPONSE_END)
        self._finish_cycle_if_done()
        if not self._pumping:
            self.pump()

    def _finish_cycle_if_done(self) -> None:
        phase = self._cycle.phase
        if phase is Phase.DONE:
            self._exchange = None
            self._parser.start_next_cycle()
            self._timeout_kind = None  # the keep-alive timeout starts again from this response
        elif phase is Phase.MUST_CLOSE or (phase is Phase.DRAINING_BODY and not self._cycle.keep_alive):
            self._exchange = None
            self._begin_close(linger=phase is Phase.DRAINING_BODY or self._parser.buffered > 0)

    # -- loop callbacks ---------------------------------------------------------------------------

    def on_readable(self) -> None:
        if self.state is IOState.LINGERING:
            self._linger_read()
            return
        if self.state is not IOState.READING:
            return
        try:
            data = self.sock.recv(self._limits.recv_size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:
            self._on_socket_error(error)
            return
        self._counters.bytes_received += len(data)
        if self._trace is not None:
            self._trace("recv", f"bytes={len(data)}" if data else "end of stream")
        self._parser.receive_data(data)
        if data and self._cycle.phase in BODY_PHASES:
            self._timeout_kind = None  # nginx-like: the body timeout runs between reads
        self.pump()

    def on_writable(self) -> None:
        if self.state is not IOState.CLOSED:
            self.pump()

    # -- the engine -------------------------------------------------------------------------------

    def pump(self) -> None:
        """Move the connection forward until it must wait for the network or for the handler:
        dispatch parsed requests while reading is allowed, send what is queued, settle the state, and
        repeat while settling frees buffered pipelined requests. Re-entrant calls (a handler answering
        from inside dispatch) return at once; the running pump sees their effect."""
        if self._pumping:
            return
        self._pumping = True
        try:
            while True:
                blocked = self.state is IOState.READING and self._dispatch()
                if self._queue:
                    self._send()
                if self.state is IOState.CLOSED:
                    return
                resumed = self._settle()
                if not (resumed or (blocked and self.state is IOState.READING)):
                    return
        except Exception:
            # A bug of ours, not the peer's nor the handler's (those are caught where they happen):
            # this connection cannot be trusted any more, the others and the loop go on.
            logger.exception("%r: internal error; closing the connection", self)
            self.close("internal error")
        finally:
            self._pumping = False

    def _dispatch(self) -> bool:
        """Hand parsed events to the exchange until the parser needs bytes or pauses, the handler
        pauses the body, or the connection starts closing. Return True when it stopped only because
        queued output passed the high-water mark (every buffered request is handled before the next
        select unless the peer is not keeping up)."""
        parser = self._parser
        cycle = self._cycle
        high_water = self._limits.high_water
        while self.state is IOState.READING and not self._closing:
            if self._queue.size > high_water:
                return True
            exchange = self._exchange
            if exchange is not None and exchange.body_paused and cycle.phase in BODY_PHASES:
                return False
            try:
                event = parser.next_event()
            except ProtocolError as error:
                self._on_protocol_error(error)
                return False
            kind = type(event)
            if kind is Request:
                assert isinstance(event, Request)
                self._begin_exchange(event)
            elif kind is Data:
                assert isinstance(event, Data) and exchange is not None
                try:
                    exchange.body_received(event.data)
                except Exception:
                    self._handler_failed(exchange)
            elif kind is EndOfMessage:
                assert exchange is not None
                try:
                    exchange.body_complete()
                except Exception:
                    self._handler_failed(exchange)
                self._finish_cycle_if_done()
            elif event is NEED_DATA or event is PAUSED:
                return False
            else:
                assert event is CLOSED
                self._begin_close(linger=False, reason="peer closed")
                return False
        return False

    def _begin_exchange(self, request: Request) -> None:
        self.requests += 1
        self._counters.requests += 1
        if self._trace is not None:
            self._trace("request", request.request_line)
        exchange = Exchange(self, request)
        self._exchange = exchange
        try:
            self._handler(exchange)
        except Exception:
            self._handler_failed(exchange)

    def _call_handler(self, exchange: Exchange, callback: Callable[[], object]) -> None:
        """Run a callback of ``exchange``'s handler that the connection scheduled."""
        try:
            callback()
        except Exception:
            self._handler_failed(exchange)

    def _handler_failed(self, exchange: Exchange) -> None:
        """Handler code raised: a bug in the handler, not a reason to stop serving. Log it, deliver
        no more of the body to it, and answer 500, or end the connection if the response has begun
        (its status line is gone: only a cut-short body can tell the client). The loop lives on."""
        logger.exception("handler failed on %r", exchange.request)
        exchange.stop_body_delivery()
        exchange.fail()

    def _send(self) -> None:
        try:
            sent = self._queue.flush(self.sock)
        except FileShrunkError as error:
            logger.warning("%r: %s", self, error)
            self.close("file shrank")
            return
        except OSError as error:
            self._on_socket_error(error)
            return
        if sent:
            self._counters.bytes_sent += sent
            if self._timeout_kind == "send":
                self._timeout_kind = None  # progress: the send timeout starts again
            if self._drain_waiters and self._queue.size <= self._limits.low_water:
                waiters, self._drain_waiters = self._drain_waiters, []
                for exchange, callback in waiters:
                    self.loop.call_soon(self._call_handler, exchange, callback)

    def _settle(self) -> bool:
        """Enter the state the cycle and the queue call for. Return True when buffered requests can
        now be dispatched (reading resumed with bytes already in the buffer, or inside a body)."""
        state = self.state
        if state is IOState.LINGERING:
            return False  # nothing to send or parse: only the peer's close or the timer moves it
        queued = self._queue.size
        if self._closing:
            new = IOState.CLOSING
        elif queued > (self._limits.low_water if state is IOState.WRITING else self._limits.high_water):
            new = IOState.WRITING
        else:
            phase = self._cycle.phase
            exchange = self._exchange
            if phase is Phase.IDLE or (phase in BODY_PHASES and not (exchange is not None and exchange.body_paused)):
                new = IOState.READING
            else:
                new = IOState.WAITING
        if new is not state:
            self._set_state(new)
        else:
            self._update_interest()
            self._arm_timeout()
        if new is IOState.CLOSING and not self._queue:
            self._finish_closing()
            return False
        # A resumed body may owe an event that needs no more bytes: the end of a body whose last
        # piece was delivered just before the handler paused it.
        pending = self._parser.buffered > 0 or self._cycle.phase in BODY_PHASES
        return new is IOState.READING and state is not IOState.READING and pending

    def _set_state(self, new: IOState) -> None:
        """The one place where the I/O state changes. Raises RuntimeError for a transition the table
        does not list."""
        old = self.state
        if new not in IO_TRANSITIONS[old]:
            raise RuntimeError(f"{self!r}: no transition from {old.value} to {new.value}")
        if self._trace is not None:
            self._trace("state", f"{old.value} -> {new.value} queued={self._queue.size}")
            if new is IOState.WRITING:
                self._trace("backpressure", f"pause reading: queued={self._queue.size} > {self._limits.high_water}")
            elif old is IOState.WRITING and new is not IOState.CLOSED:
                self._trace("backpressure", f"resume: queued={self._queue.size} <= {self._limits.low_water}")
        self.state = new
        self._timeout_kind = None
        self._update_interest()
        self._arm_timeout()

    def _update_interest(self) -> None:
        state = self.state
        events = 0
        if state is IOState.READING or state is IOState.LINGERING:
            events = EVENT_READ
        if self._queue and state is not IOState.CLOSED:
            events |= EVENT_WRITE
        if events != self._events:
            self.loop.set_events(self.sock, self._events, events, self.on_readable, self.on_writable)
            self._events = events

    # -- timeouts ---------------------------------------------------------------------------------

    def _arm_timeout(self) -> None:
        """Keep the one timer of this connection matched to what it waits for. A running timer of the
        same kind is left alone: that is what bounds a whole request head (slowloris), while body and
        send progress clear the kind so those timeouts run between reads or sends."""
        limits = self._limits
        state = self.state
        if self._queue and state is not IOState.READING:
            kind, delay = "send", limits.send_timeout
        elif state is IOState.READING:
            phase = self._cycle.phase
            if phase in BODY_PHASES:
                kind, delay = "body", limits.body_timeout
            elif self._parser.buffered or self.requests == 0:
                kind, delay = "head", limits.header_timeout
            else:
                kind, delay = "keep-alive", limits.keepalive_timeout
        elif state is IOState.LINGERING:
            kind, delay = "linger", min(limits.lingering_timeout, max(0.0, self._linger_until - self.loop.time()))
        else:
            kind, delay = "", 0.0
        if kind == self._timeout_kind:
            return
        self._timeout_kind = kind
        if kind:
            self._deadline.set(delay)
        else:
            self._deadline.clear()

    def _trace_phase(self, old: Phase, new: Phase, transition: Transition) -> None:
        assert self._trace is not None
        self._trace("phase", f"{old.value} -> {new.value} ({transition.value})")

    def _on_timeout(self) -> None:
        kind = self._timeout_kind
        self._timeout_kind = None
        if self._trace is not None:
            self._trace("timeout", kind or "unknown")
        if kind in ("head", "body") and not self._cycle.response_started and not self._closing:
            # RFC 9110 15.5.9: 408 tells the client we gave up waiting for its request.
            self._answer_and_close(408, "timed out waiting for the request", "request timeout")
            return
        self.close(f"{kind} timeout" if kind else "timeout")

    # -- closing ----------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Server shutdown: an idle connection closes now; a busy one closes after its response."""
        if self.state is IOState.CLOSED:
            return
        if self._cycle.phase is Phase.IDLE and not self._parser.buffered:
            # Between requests. What is queued may still be the end of a response (the cycle moves on
            # once the last byte is queued, not sent): let it go, then close; read nothing more.
            if not self._queue:
                self.close("shutdown")
                return
            self._begin_close(linger=False, reason="shutdown")
            self.pump()
            return
        self._cycle.disable_keep_alive()
        if self._cycle.phase is Phase.MUST_CLOSE:
            self._begin_close(linger=False)
        self.pump()

    def _on_protocol_error(self, error: ProtocolError) -> None:
        logger.debug("%r: protocol error %d: %s", self, error.status, error.reason)
        if self._trace is not None:
            self._trace("error", f"{error.status} {error.reason}")
        if self._cycle.response_started:
            # Too late for an error response: the status line has gone out. Close after what is queued.
            self._cycle.apply(Transition.ERROR)
            exchange, self._exchange = self._exchange, None
            if exchange is not None:
                exchange.connection_lost()
            self._begin_close(linger=True, reason="protocol error")
            return
        self._answer_and_close(error.status, error.reason, "protocol error")

    def _answer_and_close(self, status: int, detail: str, reason: str) -> None:
        """Send an error response of our own (no response has started) and close after it."""
        self._cycle.apply(Transition.ERROR)
        self._parser.discard_buffer()
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.connection_lost()
        request = exchange.request if exchange is not None else None
        # The method decides whether a body may follow (not after HEAD); a head we could not parse
        # gets one.
        writer = ResponseWriter(request.method if request else "GET", "HTTP/1.1", keep_alive=False)
        body = error_page(status, detail)
        data = writer.head(status, _ERROR_FIELDS, len(body), self.http_date()) + writer.body(body)
        self._queue.push_bytes(data)
        body_bytes = writer.body_bytes if writer.send_body else 0
        if self._trace is not None:
            self._trace("queue", f"bytes={len(data)} queued={self._queue.size}")
            self._trace("response", f"{status} body={body_bytes}")
        if self._access_log is not None:
            self._access_log(self.address[0], request.request_line if request else "-", status, body_bytes)
        self._begin_close(linger=True, reason=reason)
        self.pump()

    def _begin_close(self, *, linger: bool, reason: str = "closed") -> None:
        """Close once the queue drains. ``linger``: the peer may still be sending (an unread body,
        pipelined bytes, an error), so shut down our side and drain it first, or our close would
        reset the connection and could destroy the response before the client reads it."""
        if self._closing:
            return
        self._closing = True
        self._linger = linger
        self.close_reason = reason

    def _finish_closing(self) -> None:
        if not self._linger or self._parser.eof:
            self.close(self.close_reason or "closed")
            return
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close(self.close_reason)
            return
        if self._trace is not None:
            self._trace("linger", "write side shut down; reading what the peer still sends")
        self._linger_until = self.loop.time() + self._limits.lingering_time
        self._set_state(IOState.LINGERING)

    def _linger_read(self) -> None:
        try:
            data = self.sock.recv(self._limits.recv_size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close(self.close_reason)
            return
        self._timeout_kind = None
        self._arm_timeout()

    def _on_socket_error(self, error: OSError) -> None:
        if is_peer_gone(error):
            logger.debug("%r: peer gone: %s", self, error)
            self.close("peer reset")
        else:
            logger.warning("%r: socket error: %s", self, error)
            self.close("socket error")

    def close(self, reason: str) -> None:
        """The one exit: unregister, close the socket, cancel the timer, drop the queue, tell the
        exchange and the server. Idempotent."""
        if self.state is IOState.CLOSED:
            return
        self.close_reason = reason
        if self._trace is not None:
            self._trace("close", reason)
        self._queue.clear()
        self._drain_waiters.clear()
        self._set_state(IOState.CLOSED)  # unregisters and clears the timer
        self._parser.discard_buffer()
        self.sock.close()
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.connection_lost()
        counters = self._counters
        counters.closes[reason] = counters.closes.get(reason, 0) + 1
        self._config.on_closed(self)
