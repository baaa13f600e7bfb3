"""One non-blocking TCP connection: the socket, its send queue and its I/O state machine, under a
protocol that is told what happens (the protocol/transport split of asyncio and Twisted).

The transport reads when its state says so and hands the bytes to ``protocol.data_received``; the peer's
end of stream goes to ``eof_received``. A protocol callback runs as a callback of the connection
(``_received``, ``_run``): what it writes waits in the queue and leaves in one send after it returns;
outside one, ``write`` tries the socket at once and queues what it does not take. File ranges go out
with ``os.sendfile``. ``defer`` runs a protocol callback after the one that is running, never inside
it: how an answer that comes later gets back onto the connection's path. Every state change goes
through ``_enter``, and ``_settle`` asks iostate.py (``settled``) for the state to be in and its row:
read interest only while reading, write interest only while bytes are queued, and the timeout the row
names; it runs only when something the table reads has changed. Backpressure is the WRITING state:
above the high-water mark the protocol is told ``pause_writing`` and nothing is read; at the low mark,
``resume_writing``. Every connection ends through ``_close``, once, whatever the reason: ``close``
(after the queue drains, lingering if asked), ``abort`` (now), a timeout, the peer's reset.

Errors fall in three buckets: would-block (retry when the selector says so), peer gone (a quiet close,
logged at debug), anything else (logged, that connection closed, the loop goes on).
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable
from functools import partial
from typing import Any, BinaryIO
from typing import Protocol as TypingProtocol

from reactor.limits import Limits
from reactor.loop.deadline import Deadline
from reactor.loop.eventloop import EventLoop
from reactor.net.iostate import (
    BODY_TIMEOUT,
    CLOSED,
    CLOSING,
    EMPTY,
    HANDSHAKE_TIMEOUT,
    HEADER_TIMEOUT,
    IO_TRANSITIONS,
    KEEPALIVE_TIMEOUT,
    LINGER_TIMEOUT,
    LINGERING,
    NO_TIMEOUT,
    READING,
    RESTARTED_BY_READ,
    RESTARTED_BY_SEND,
    SEND_TIMEOUT,
    WRITING,
    IOState,
    Timeout,
    fill,
    next_state,
    settled,
)
from reactor.net.sendqueue import FileShrunkError, SendFile, SendQueue
from reactor.net.socketerrors import is_peer_gone
from reactor.trace.tracer import Tracer

logger = logging.getLogger(__name__)

_ENDING = frozenset({CLOSING, LINGERING, CLOSED})
# The Limits field that says how long each timeout lasts (LINGER_TIMEOUT is also bounded by the whole
# lingering time: see _seconds).
_LIMIT_OF = {
    HEADER_TIMEOUT: "header_timeout",
    KEEPALIVE_TIMEOUT: "keepalive_timeout",
    BODY_TIMEOUT: "body_timeout",
    SEND_TIMEOUT: "send_timeout",
    LINGER_TIMEOUT: "lingering_timeout",
    HANDSHAKE_TIMEOUT: "handshake_timeout",
}


class Protocol:
    """What a transport tells the code above it, always on the loop thread. Override what you need.
    A callback that raises is logged and its connection closed ("internal error")."""

    transport: TransportInterface

    def connection_made(self, transport: TransportInterface) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Bytes arrived, split wherever TCP split them."""

    def eof_received(self) -> bool:
        """The peer will send nothing more. Return True to keep our side open (to write more and close
        later); the default closes once queued output is sent."""
        return False

    def pause_writing(self) -> None:
        """The send queue passed the high-water mark: produce no more output for now."""

    def resume_writing(self) -> None:
        """The send queue drained to the low-water mark: produce again."""

    def timed_out(self, timeout: Timeout) -> None:
        """The read timeout asked for with ``resume_reading`` ran out; the default closes."""
        self.transport.abort(f"{timeout.value} timeout")

    def connection_lost(self, reason: str) -> None:
        """The connection is closed; ``reason`` says why ("closed", "peer reset", "send timeout"...)."""


class Counters:
    """Totals shared by the connections of one server; read through its statistics()."""

    __slots__ = ("requests", "responses", "bytes_received", "bytes_sent", "closes", "tls_handshake_failures")

    def __init__(self) -> None:
        self.requests = 0  # counted by the HTTP protocol
        # Responses as each ends, counted by the HTTP protocol: by method ("" for no request), then by
        # the status's first digit (counts[2]: 2xx).
        self.responses: dict[str, list[int]] = {}
        self.bytes_received = 0
        self.bytes_sent = 0
        self.closes: dict[str, int] = {}
        self.tls_handshake_failures: dict[str, int] = {}  # by the TLS library's reason (tls.py)


class Transport:
    """One accepted TCP connection, driven by the loop for its ``protocol``. ``start()`` begins it.
    ``sendfile`` stands in for os.sendfile on a socket that has no kernel behind it (tests/simulation)."""

    # Slots: ten thousand idle connections cost their transports, and a transport with more than
    # thirty attributes in a dict would cost 1.5 KiB more each.
    __slots__ = (
        "loop",
        "sock",
        "address",
        "protocol",
        "id",
        "counters",
        "state",
        "closing",
        "close_reason",
        "trace",
        "_close_asked",
        "_limits",
        "_recv_size",
        "_high_water",
        "_on_closed",
        "_queue",
        "_flush",
        "_events",
        "_wanted_events",
        "_reading",
        "_read_timeout",
        "_eof",
        "_linger_wanted",
        "_linger_deadline",
        "_timeout",
        "_timeout_seconds",
        "_deadline",
        "_drain_waiters",
        "_in_callback",
        "_deferred",
        "_server_address",
        "_unsettled",
        "_settled_queue",
        "_sent",
        "_sent_waiters",
        "_eof_wanted",
    )

    def __init__(
        self,
        loop: EventLoop,
        sock: socket.socket,
        address: tuple[str, int],
        protocol: Protocol,
        limits: Limits,
        *,
        ident: int = 0,
        counters: Counters | None = None,
        tracer: Tracer | None = None,
        on_closed: Callable[[Transport], object] | None = None,
        sendfile: SendFile | None = None,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.address = address
        self.protocol = protocol
        self.id = ident
        self.counters = counters if counters is not None else Counters()
        self.state = READING
        self.closing = False  # close() or abort() was called: nothing more is written (set by close and _enter)
        self._close_asked = False  # close() was called; the state follows at the next _settle
        self.close_reason = ""
        self._limits = limits
        self._recv_size = limits.recv_size
        self._high_water = limits.high_water
        self._on_closed = on_closed
        self._queue = SendQueue(sendfile)
        # How the queue goes out on this socket, flush(sock) -> bytes sent: a bound method held here,
        # not a method of ours, so the plain path pays no extra call (tls.py puts SSL_write here).
        self._flush: Callable[[socket.socket], int] = self._queue.flush
        self._events = 0  # the selector mask registered now
        # Interest the layer under the protocol needs beyond the state's row: a TLS record to read or
        # write (tls.py). Plain TCP needs none.
        self._wanted_events = 0
        self._reading = True  # the protocol wants bytes (pause_reading / resume_reading)
        self._read_timeout = NO_TIMEOUT  # and which limit times the wait for them
        self._eof = False  # the peer ended its side
        self._linger_wanted = False  # close(linger=True): read what the peer still sends before closing
        self._linger_deadline = 0.0  # the end of the whole lingering time
        self._timeout = NO_TIMEOUT  # which limit the armed timer runs for
        self._timeout_seconds = 0.0  # and for how long, restarted by progress when it is restartable
        self._deadline = Deadline(loop, self._on_timeout)
        self._drain_waiters: list[tuple[Callable[..., object], tuple[Any, ...]]] = []
        self._in_callback = False  # a protocol callback runs: writes wait for one send after it
        self._deferred: list[tuple[Callable[..., object], tuple[Any, ...]]] = []  # to run after it (defer)
        self._server_address: tuple[str, int] | None = None
        # What the last settle saw: an input of the table changed since (the protocol's reading, the
        # peer's end, a close, TLS's wants, a timeout that fired), and how full the queue was. A send
        # that leaves everything as it was (the usual request) needs no settle.
        self._unsettled = True
        self._settled_queue = EMPTY
        self._sent = 0  # bytes the kernel took on this connection, all told
        # when_sent: (position in the stream, callback, args), in the order they were asked for.
        self._sent_waiters: list[tuple[int, Callable[..., object], tuple[Any, ...]]] = []
        self._eof_wanted = False  # write_eof: shut down the write side once the queue is empty
        # --trace: a line per fact of this connection's life; None (the usual case) costs one test.
        self.trace: Callable[[str, str], None] | None = None
        if tracer is not None and tracer.connections:
            self.trace = partial(tracer.connection, ident)
            self._queue.observer = self.trace

    def __repr__(self) -> str:
        return f"<Transport {self.summary()}>"

    def summary(self) -> str:
        """``#id fd=N host:port state queued=N``: what a log line or a repr says of this connection."""
        fd = self.sock.fileno() if self.state is not CLOSED else -1
        return f"#{self.id} fd={fd} {self.address[0]}:{self.address[1]} {self.state.value} queued={self._queue.size}"

    def start(self) -> None:
        """Tell the protocol, then read at once: a client sends its request right behind the
        handshake, so it is usually here already, and a short exchange is answered (even closed)
        before the socket is ever registered with the selector."""
        if self.trace is not None:
            self.trace("accept", f"from={self.address[0]}:{self.address[1]} fd={self.sock.fileno()}")
        self._made()
        if self.state is READING and self._reading and not self.closing:
            self.on_readable()
        if self.state is not CLOSED:
            self._progress()

    def _made(self) -> None:
        """Tell the protocol the connection is made. Nothing is sent or settled yet: the caller reads
        first, so a short exchange never registers with the selector."""
        self._in_callback = True
        try:
            self.protocol.connection_made(self)
        except Exception:
            self._callback_failed(self.protocol.connection_made)
            return
        self._in_callback = False

    # -- what it holds ------------------------------------------------------------------------------

    @property
    def queued(self) -> int:
        """Bytes written and not yet taken by the kernel, file ranges included."""
        return self._queue.size

    @property
    def sent(self) -> int:
        """Bytes the kernel took on this connection, from its start."""
        return self._sent

    @property
    def written(self) -> int:
        """Bytes written on this connection, from its start: sent, or still queued. The position in
        the stream where the next write begins."""
        return self._sent + self._queue.size

    @property
    def server_address(self) -> tuple[str, int]:
        """The socket's local address, asked of the kernel once."""
        if self._server_address is None:
            name = self.sock.getsockname()
            self._server_address = (name[0], name[1])
        return self._server_address

    # -- what the protocol calls --------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send ``data``: now, as far as the socket takes it, the rest as the peer reads. Inside a
        protocol callback the bytes wait for the one send after it returns (one send per read, however
        many responses or lines it produced), unless they pass the high-water mark. Ignored once
        closing."""
        if not data or self.closing:
            return
        if type(data) is not bytes:
            data = bytes(data)  # a bytearray the caller may reuse: the queue keeps its own copy
        queue = self._queue
        queue.push_bytes(data)
        if self.trace is not None:
            self.trace("queue", f"bytes={len(data)} queued={queue.size}")
        if not self._in_callback or queue.size > self._high_water:
            self._progress()

    def send_now(self, data: bytes) -> None:
        """``write(data)``, sent at once even inside a protocol callback when nothing is queued before
        it: for a protocol whose whole reply to a read is these bytes (the one send after the callback
        would carry only them), so they need not pass through the queue. What the socket does not
        take now is queued, as write queues it."""
        if self._queue.size or self.closing or self.trace is not None:
            self.write(data)
            return
        try:
            sent = self.sock.send(data)
        except OSError:
            # Not now, or the peer is gone: the queue's send after the callback meets it again and
            # acts on it (a full socket waits for the selector; a gone peer closes the connection).
            sent = 0
        if sent:
            # Nothing was queued, so no when_sent or when_drained waiter is waiting, and no send timeout
            # runs (the transport settles after each callback): only the counts move.
            self._sent += sent
            self.counters.bytes_sent += sent
        if sent < len(data):
            self._queue.push_bytes(data[sent:])

    def write_file(self, file: BinaryIO, offset: int, count: int, owns_file: bool) -> None:
        """Send ``count`` bytes of ``file`` from ``offset`` with os.sendfile, in order with the bytes
        written around it. With ``owns_file`` the file is closed once sent, or when the connection
        ends."""
        if self.closing:
            if owns_file:
                file.close()
            return
        queue = self._queue
        queue.push_file(file, offset, count, owns_file)
        if self.trace is not None:
            self.trace("queue", f"file fd={file.fileno()} offset={offset} count={count} queued={queue.size}")
        if not self._in_callback or queue.size > self._high_water:
            self._progress()

    def pause_reading(self) -> None:
        """Read nothing until resume_reading: the peer's bytes wait in the kernel, then TCP slows the
        peer down."""
        if self._reading:
            self._reading = False
            self._unsettled = True
        if not self._in_callback:
            self._settle()

    def resume_reading(self, timeout: Timeout = NO_TIMEOUT) -> None:
        """Read again, waiting at most ``timeout`` (HEADER_TIMEOUT, KEEPALIVE_TIMEOUT or BODY_TIMEOUT:
        see iostate.py) for the bytes; the protocol is told ``timed_out`` if they do not come."""
        if not self._reading or timeout is not self._read_timeout:
            self._reading = True
            self._read_timeout = timeout
            self._unsettled = True
        if not self._in_callback:
            self._settle()

    def defer(self, callback: Callable[..., object], *args: Any) -> None:
        """Run the protocol's ``callback(*args)`` as a callback of this connection, never inside
        another: now, or, if one is running, right after it returns. Either way its writes leave in
        one send after it, and if it raises the connection closes. How the protocol gets back on its
        path when something ends later than its request (a response from a timer or a thread, a body
        wanted again, the peer taking our output), without re-entering the pass that may be running."""
        if self.state is CLOSED:
            return
        if self._in_callback:
            self._deferred.append((callback, args))
        else:
            self._run(callback, *args)

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        """Run the protocol's ``callback(*args)`` on the loop's next pass, as ``defer`` runs it.
        Dropped once the connection is closed."""
        self.loop.call_soon(self.defer, callback, *args)

    def when_sent(self, callback: Callable[..., object], *args: Any) -> None:
        """Call ``callback(sent, *args)`` once every byte written so far has left, or the connection has
        ended first; ``sent`` is ``self.sent`` then (the access log counts what a response really
        sent from it). Right away when nothing is queued."""
        position = self._sent + self._queue.size
        if position <= self._sent or self.state is CLOSED:
            callback(self._sent, *args)
        else:
            self._sent_waiters.append((position, callback, args))

    def when_drained(self, callback: Callable[..., object], *args: Any) -> None:
        """Run ``callback(*args)`` (through call_soon) once the send queue is at or below the
        low-water mark: the signal for a producer to queue more. Dropped if the connection closes
        first."""
        if self.state is CLOSED:
            return
        if self._queue.size <= self._limits.low_water:
            self.call_soon(callback, *args)
        else:
            self._drain_waiters.append((callback, args))

    def close(self, reason: str = "closed", *, linger: bool = False) -> None:
        """Read no more, send what is queued, then close. ``linger``: the peer may still be sending
        (an unread body, pipelined requests), so shut down our side and read and drop what comes
        until the peer closes, or our close would reset the connection and could destroy the last
        response before the client reads it. Idempotent. Inside a protocol callback the state moves
        after it, once its output has been sent: a response that leaves whole in that send closes the
        connection without it ever waiting for the selector (no register and unregister, no timer)."""
        if self.closing:
            return
        self.close_reason = reason
        self._linger_wanted = linger
        self._close_asked = True
        self._unsettled = True
        self.closing = True
        if not self._in_callback:
            self._settle()

    def write_eof(self) -> None:
        """Shut down the write side once what is queued has been sent (a TCP half-close: the peer
        reads the end of our stream) and go on reading; nothing may be written after it. How a tunnel
        passes one side's end on to the other (tunnel.py). Ignored once closing."""
        if self.closing:
            return
        self._eof_wanted = True
        if not self._queue.size:
            self._write_side_done()

    def _write_side_done(self) -> None:
        self._eof_wanted = False
        if self.trace is not None:
            self.trace("eof", "write side shut down")
        # A peer already gone (ENOTCONN) is found by the next read, which closes the connection.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    def abort(self, reason: str = "aborted") -> None:
        """Close now, dropping what is queued."""
        self._close(reason)

    # -- loop callbacks ---------------------------------------------------------------------------

    def on_readable(self) -> None:
        if self.state is READING:
            try:
                data = self.sock.recv(self._recv_size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                self._on_socket_error(error)
                return
            self._received(data)
        elif self.state is LINGERING:
            self._linger_read()

    def on_writable(self) -> None:
        if self.state is not CLOSED:
            self._progress()

    # -- the engine -------------------------------------------------------------------------------

    def _received(self, data: bytes) -> None:
        """Hand what one read returned to the protocol (bytes, or empty: the peer's end), then send
        what it wrote, once, and settle."""
        if not data:
            if self.trace is not None:
                self.trace("recv", "end of stream")
            self._eof = True
            self._unsettled = True
            if not self._run(self.protocol.eof_received):
                self.close()
            return
        self.counters.bytes_received += len(data)
        if self.trace is not None:
            self.trace("recv", f"bytes={len(data)}")
        if self._timeout in RESTARTED_BY_READ:
            self._deadline.set(self._timeout_seconds)
        self._in_callback = True
        try:
            self.protocol.data_received(data)
            if self._deferred:
                self._run_deferred()
        except Exception:
            self._callback_failed(self.protocol.data_received)
            return
        self._in_callback = False
        if self.state is not CLOSED:
            self._progress()

    def _run(self, callback: Callable[..., Any], *args: Any) -> Any:
        """Run a protocol callback, then send what it wrote and settle; return what it returned. A
        callback made from inside another runs directly: the outer one sends and settles for both."""
        if self._in_callback:
            return callback(*args)
        self._in_callback = True
        try:
            result = callback(*args)
            if self._deferred:
                self._run_deferred()
        except Exception:
            self._callback_failed(callback)
            return None
        self._in_callback = False
        if self.state is not CLOSED:
            self._progress()
        return result

    def _run_deferred(self) -> None:
        """Run what was deferred while a callback ran, in order (what they defer runs after them)."""
        deferred = self._deferred
        while deferred and self.state is not CLOSED:
            callback, args = deferred.pop(0)
            callback(*args)
        deferred.clear()

    def _callback_failed(self, callback: Callable[..., object]) -> None:
        self._in_callback = False
        logger.exception("%r: %s failed; closing the connection", self, getattr(callback, "__qualname__", callback))
        self._close("internal error")

    def _progress(self) -> None:
        """Send what is queued, as far as the socket takes it, then settle."""
        if self._queue.size:  # the byte count, not the queue's __bool__: an attribute, not a call
            try:
                sent = self._flush(self.sock)
            except FileShrunkError as error:
                logger.warning("%r: %s", self, error)
                self._close("file shrank")
                return
            except OSError as error:
                self._on_socket_error(error)
                return
            if sent:
                self._sent += sent
                self.counters.bytes_sent += sent
                if self._sent_waiters:
                    self._tell_sent()
                if self._timeout in RESTARTED_BY_SEND:
                    self._deadline.set(self._timeout_seconds)
                if self._drain_waiters and self._queue.size <= self._limits.low_water:
                    waiters, self._drain_waiters = self._drain_waiters, []
                    for callback, args in waiters:
                        self.call_soon(callback, *args)
        queued = self._queue.size
        if self._unsettled or (fill(queued, self._limits.low_water, self._high_water) if queued else EMPTY) is not (
            self._settled_queue
        ):
            self._settle()

    def _tell_sent(self) -> None:
        """Call the when_sent callbacks whose bytes have all left, in order."""
        waiters = self._sent_waiters
        while waiters and waiters[0][0] <= self._sent:
            _position, callback, args = waiters.pop(0)
            callback(self._sent, *args)

    def _settle(self) -> None:
        """Enter the state the table calls for (through every state on the way: reading, closing,
        closed), then match the selector interest and the timer to the state's row, and tell the
        protocol when backpressure starts or ends."""
        old = self.state
        queued = self._queue.size
        reading = self._reading and not self._eof
        queue = fill(queued, self._limits.low_water, self._high_water) if queued else EMPTY
        linger = self._linger_wanted and not self._eof
        state, row = settled(old, reading, queue, self._close_asked, linger, self._read_timeout)
        if state is not old:
            target, state = state, old
            while state is not target:  # through each state on the way, as next_state moves
                state = next_state(state, reading, queue, self._close_asked, linger)
                if state is CLOSED or (state is LINGERING and not self._shut_down_writing()):
                    self._close(self.close_reason or "closed")
                    return
                self._enter(state)
        self._unsettled = False
        self._settled_queue = queue
        if queue is EMPTY and self._eof_wanted:
            self._write_side_done()
        events = row.events | self._wanted_events
        if events != self._events:
            self.loop.set_events(self.sock, self._events, events, self.on_readable, self.on_writable)
            self._events = events
        if row.timeout is not self._timeout or state is not old:
            self._arm(row.timeout)
        if state is not old:
            if state is WRITING:
                self._run(self.protocol.pause_writing)
            elif old is WRITING and state is not CLOSING:
                self._run(self.protocol.resume_writing)

    def _enter(self, new: IOState) -> None:
        """The one place the state changes. Raises RuntimeError for a move IO_TRANSITIONS does not list."""
        old = self.state
        if new not in IO_TRANSITIONS[old]:
            raise RuntimeError(f"{self!r}: no transition from {old.value} to {new.value}")
        if self.trace is not None:
            queued = self._queue.size
            self.trace("state", f"{old.value} -> {new.value} queued={queued}")
            if new is WRITING:
                self.trace("backpressure", f"pause reading: queued={queued} > {self._high_water}")
            elif old is WRITING and new is not CLOSING and new is not CLOSED:
                # as _settle: leaving WRITING to close is no resume (the queue may still be full)
                self.trace("backpressure", f"resume: queued={queued} <= {self._limits.low_water}")
        self.state = new
        self.closing = new in _ENDING
        self._unsettled = True

    # -- timeouts ---------------------------------------------------------------------------------

    def _arm(self, timeout: Timeout) -> None:
        self._timeout = timeout
        if timeout is NO_TIMEOUT:
            self._deadline.clear()
            return
        seconds = getattr(self._limits, _LIMIT_OF[timeout])
        if timeout is LINGER_TIMEOUT:  # between two reads, within the whole lingering time
            seconds = min(seconds, max(0.0, self._linger_deadline - self.loop.time()))
        self._timeout_seconds = seconds
        self._deadline.set(seconds)

    def _on_timeout(self) -> None:
        timeout = self._timeout
        self._timeout = NO_TIMEOUT
        self._unsettled = True  # the row's timer is no longer armed
        if self.trace is not None:
            self.trace("timeout", timeout.value)
        if timeout is SEND_TIMEOUT or timeout is LINGER_TIMEOUT or timeout is HANDSHAKE_TIMEOUT:
            self._close(f"{timeout.value} timeout")
        else:
            self._run(self.protocol.timed_out, timeout)

    # -- closing ----------------------------------------------------------------------------------

    def _shut_down_writing(self) -> bool:
        """Begin lingering: shut down our side, so the peer sees the end of the response. Returns
        False when the socket is already gone."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            return False
        if self.trace is not None:
            self.trace("linger", "write side shut down; reading what the peer still sends")
        self._linger_deadline = self.loop.time() + self._limits.lingering_time
        return True

    def _linger_read(self) -> None:
        try:
            data = self.sock.recv(self._recv_size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(self.close_reason)
            return
        self._arm(LINGER_TIMEOUT)  # restarted by reads, within the whole lingering time

    def _on_socket_error(self, error: OSError) -> None:
        if is_peer_gone(error):
            logger.debug("%r: peer gone: %s", self, error)
            self._close("peer reset")
        else:
            logger.warning("%r: socket error: %s", self, error)
            self._close("socket error")

    def _close(self, reason: str) -> None:
        """The one exit: drop the queue, unregister, cancel the timer, close the socket, count the
        reason, tell the protocol and whoever opened the connection. Idempotent."""
        if self.state is CLOSED:
            return
        self.close_reason = reason
        if self.trace is not None:
            self.trace("close", reason)
        self._queue.clear()
        self._drain_waiters.clear()
        self._deferred.clear()
        self._enter(CLOSED)
        if self._events:
            self.loop.unregister(self.sock)
            self._events = 0
        self._timeout = NO_TIMEOUT
        self._deadline.clear()
        self.sock.close()
        closes = self.counters.closes
        closes[reason] = closes.get(reason, 0) + 1
        waiters, self._sent_waiters = self._sent_waiters, []
        for _position, callback, args in waiters:  # what never left, never will: tell what did
            callback(self._sent, *args)
        try:
            self.protocol.connection_lost(reason)
        except Exception:
            logger.exception("%r: connection_lost failed", self)
        if self._on_closed is not None:
            self._on_closed(self)


class TransportInterface(TypingProtocol):
    """What a protocol may use of its transport: Transport (and TLSTransport) and the test double
    reactor/testing.py: FakeTransport both satisfy it, and mypy checks both against it, so the double
    cannot drift from the real one. Protocols (the HTTP protocol, the exchange, stream protocols) are
    typed against it, never against the class."""

    @property
    def protocol(self) -> Protocol | None: ...

    @protocol.setter
    def protocol(self, protocol: Protocol) -> None:
        """Hand the connection to another protocol (after a 101, say); it is told nothing here."""

    @property
    def loop(self) -> EventLoop: ...

    @property
    def address(self) -> tuple[str, int]: ...

    @property
    def server_address(self) -> tuple[str, int]: ...

    @property
    def counters(self) -> Counters: ...

    @property
    def trace(self) -> Callable[[str, str], None] | None: ...

    @property
    def closing(self) -> bool: ...

    @property
    def queued(self) -> int: ...

    @property
    def sent(self) -> int: ...

    @property
    def written(self) -> int: ...

    def summary(self) -> str: ...

    def write(self, data: bytes) -> None: ...

    def send_now(self, data: bytes) -> None: ...

    def write_file(self, file: BinaryIO, offset: int, count: int, owns_file: bool) -> None: ...

    def write_eof(self) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self, timeout: Timeout = NO_TIMEOUT) -> None: ...

    def defer(self, callback: Callable[..., object], *args: Any) -> None: ...

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None: ...

    def when_sent(self, callback: Callable[..., object], *args: Any) -> None: ...

    def when_drained(self, callback: Callable[..., object], *args: Any) -> None: ...

    def close(self, reason: str = "closed", *, linger: bool = False) -> None: ...

    def abort(self, reason: str = "aborted") -> None: ...
