"""The handler's view of one request: the parsed head, its body on demand, and the ways to answer.

A handler is any callable taking an Exchange; the connection calls it on the loop thread as soon as
the request head is parsed. It may answer at once (``respond``, ``respond_file``), or stream
(``start_response``, ``write``, ``write_file``, ``end``) now or later. Every method must be called on
the loop thread: code on other threads hands calls over with ``exchange.loop.call_soon_threadsafe``.

The exchange writes its response itself: the sans-IO connection (http/connection.py) turns each call
into bytes and the transport sends them. It never calls back into the HTTP protocol (httpconnection.py):
that protocol looks at the cycle once the handler returns, and an answer that ends later, from a
timer or a thread, has the protocol's next pass run after it (``Transport.defer``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, BinaryIO

from reactor.http.errors import StateError
from reactor.http.events import Request
from reactor.http.serverconnection import ERROR_CONTENT_TYPE, Fields, ServerConnection
from reactor.http.writer import PreparedResponse, error_page

if TYPE_CHECKING:
    from reactor.loop.eventloop import EventLoop
    from reactor.net.transport import Counters, Protocol, TransportInterface

logger = logging.getLogger(__name__)

HeaderList = Iterable[tuple[str, str]]
# Told (client address, user, request line, status, body bytes sent) once a response's last byte has
# left, or its connection has ended first: the access log. The user is "-" when none authenticated.
AccessLog = Callable[[str, str, str, int, int], None]

JOIN_LIMIT = 16 * 1024  # bodies up to this size leave in the same buffer as their head
# Responses are counted by method: these (RFC 9110 9.3 and PATCH) by name, any other token as "other",
# so that clients cannot grow the counters without bound; "" when no request head could be read.
_COUNTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


class Exchange:
    """One request/response on a connection.

    After the connection is gone (``aborted``) or the response ended (``finished``), calls that would
    send are ignored, so a handler racing a disconnect needs no special care.
    """

    __slots__ = (
        "request",
        "_conn",
        "_transport",
        "_access_log",
        "status",
        "finished",
        "aborted",
        "reads_body",
        "body_paused",
        "_on_data",
        "_on_end",
        "_on_abort",
        "_resume",
        "long_lived",
        "user",
        "_body_at",
    )

    def __init__(
        self, request: Request, conn: ServerConnection, transport: TransportInterface, access_log: AccessLog | None
    ) -> None:
        self.request = request
        self._conn = conn  # the sans-IO connection, whose current cycle is this exchange's
        self._transport = transport
        self._access_log = access_log
        self.status = 0
        self.finished = False
        self.aborted = False
        self.reads_body = False  # read_body was called
        self.body_paused = False
        self._on_data: Callable[[bytes], object] | None = None
        self._on_end: Callable[[], object] | None = None
        self._on_abort: list[Callable[[], object]] | None = None  # made by the first on_abort
        # Set by the connection when the handler returned with the response still owed: its next pass,
        # run (Transport.defer) when the response ends or the handler wants the body again.
        self._resume: Callable[[], object] | None = None
        self.long_lived = False  # mark_long_lived was called
        self.user: str | None = None  # who the request authenticated as (handlers/auth/basic.py), for the log
        self._body_at = 0  # where the response's body begins in the connection's stream (Transport.written)

    # -- context ----------------------------------------------------------------------------------

    @property
    def loop(self) -> EventLoop:
        return self._transport.loop

    @property
    def client_address(self) -> tuple[str, int]:
        return self._transport.address

    @property
    def server_address(self) -> tuple[str, int]:
        return self._transport.server_address

    @property
    def queued(self) -> int:
        """Response bytes waiting for the peer to take them (file ranges included)."""
        return self._transport.queued

    @property
    def response_started(self) -> bool:
        """The status line is written (asked of the sans-IO connection, the one place that knows)."""
        return self.finished or (not self.aborted and self._conn.response_started)

    def __repr__(self) -> str:
        return f"<Exchange {self.request.method} {self.request.target} status={self.status or '-'}>"

    # -- the request body -------------------------------------------------------------------------

    def read_body(self, on_data: Callable[[bytes], object], on_end: Callable[[], object]) -> None:
        """Deliver the request body: ``on_data(chunk)`` per piece, then ``on_end()``.

        Without this call the body is discarded. A client that sent ``Expect: 100-continue`` is
        invited to send its body now (RFC 9110 10.1.1).
        """
        self.reads_body = True
        self._on_data = on_data
        self._on_end = on_end
        if not self.request.has_body:
            on_end()
            return
        if not self.aborted:
            interim = self._conn.send_continue()
            if interim:
                self._transport.write(interim)

    def pause_body(self) -> None:
        """Stop delivering body data; the connection stops reading, so the client slows down."""
        self.body_paused = True

    def resume_body(self) -> None:
        if self.body_paused:
            self.body_paused = False
            if self._resume is not None and not self.aborted:
                self._transport.defer(self._resume)

    def body_received(self, data: bytes) -> None:
        """Called by the connection with a piece of the request body."""
        if self._on_data is not None:
            self._on_data(data)

    def body_complete(self) -> None:
        """Called by the connection once the request body has ended."""
        on_end = self._on_end
        # Nothing more will come: let go of the callbacks (they often hold the handler, which holds
        # this exchange: a cycle only the garbage collector would free).
        self._on_data = self._on_end = None
        if on_end is not None:
            on_end()

    def stop_body_delivery(self) -> None:
        """Called by the connection when the handler failed: the rest of the body is discarded."""
        self._on_data = self._on_end = None

    # -- the response -----------------------------------------------------------------------------

    def respond(self, status: int, headers: Fields = (), body: bytes = b"", *, close: bool = False) -> None:
        """Send a whole response with a bytes body. Raises StateError if a response was already
        started, ValueError for a status or header that cannot be sent (nothing is sent then)."""
        if not self._may_start():
            return
        conn = self._conn
        transport = self._transport
        if len(body) <= JOIN_LIMIT:
            # One buffer, one send: copying a small body is cheaper than a second syscall or a gather.
            transport.write(conn.send_response(status, headers, body, close, self.reads_body))
        else:
            transport.write(conn.start_response(status, headers, len(body), close=close, reads_body=self.reads_body))
            transport.write(conn.send_data(body))
            conn.end_response()  # with a Content-Length, nothing follows the body
        self.status = status
        self._ended(len(body) if conn.sends_body else 0)

    def respond_prepared(self, response: PreparedResponse, *, close: bool = False) -> None:
        """Send a whole response made once for many requests (a cached file's, a built-in error
        page): what ``respond`` would send with its status, fields and body, framed once per form.
        Raises StateError if a response was already started."""
        if self.finished or self.aborted:
            if self.aborted:
                return
            raise StateError("the response was already started")
        head, body = self._conn.send_prepared(response, close, self.reads_body)  # StateError once started
        transport = self._transport
        if len(body) <= JOIN_LIMIT:
            transport.write(head + body)
        else:
            transport.write(head)
            transport.write(body)
        self.status = response.status
        self._ended(len(body))

    def respond_file(
        self,
        status: int,
        headers: HeaderList,
        file: BinaryIO,
        offset: int,
        count: int,
        *,
        close: bool = False,
    ) -> None:
        """Send ``count`` bytes of ``file`` from ``offset`` as the body; the exchange closes the file."""
        self.start_response(status, headers, count, close=close)
        self.write_file(file, offset, count, owns_file=True)
        self.end()

    def respond_error(self, status: int, detail: str = "", headers: HeaderList = ()) -> None:
        """Send a short HTML page for an error status."""
        body = error_page(status, detail)
        self.respond(status, [ERROR_CONTENT_TYPE, *headers], body)

    def start_response(
        self,
        status: int,
        headers: Fields = (),
        content_length: int | None = None,
        *,
        close: bool = False,
    ) -> None:
        """Queue the status line and headers. Without ``content_length`` the body is chunked (HTTP/1.1)
        or ends with the connection (HTTP/1.0). ``close`` ends the connection after this response.
        Raises StateError if a response was already started, ValueError as respond does."""
        if self._may_start():
            head = self._conn.start_response(status, headers, content_length, close=close, reads_body=self.reads_body)
            transport = self._transport
            transport.write(head)
            if self._access_log is not None:
                self._body_at = transport.written
            self.status = status

    def mark_long_lived(self) -> None:
        """Say that this response is a stream with no end of its own (Server-Sent Events): a graceful
        shutdown ends it at once instead of waiting out its grace period, and the server's statistics
        count it among ``streams``. Idle, it costs no timer: the keep-alive timeout runs only between
        responses, the send timeout only while bytes wait for the client."""
        self.long_lived = True

    def switch_protocols(self, headers: Fields, protocol: Protocol) -> None:
        """Answer 101 (Switching Protocols) with ``headers`` (Connection and Upgrade among them) and
        hand the connection to ``protocol``, a raw stream protocol: it is told ``connection_made`` with
        the transport, then ``data_received`` with what the client sent after the request head, if
        anything; from then on the transport calls it, not the HTTP protocol. The exchange is
        long-lived (a graceful shutdown ends it at once) and ``end()`` ends it: the access log line,
        then the connection closes once what is queued has left. Raises StateError as
        start_response does."""
        if not self._may_start():
            return
        conn = self._conn
        transport = self._transport
        transport.write(conn.start_response(101, headers))
        if self._access_log is not None:
            self._body_at = transport.written  # the log counts what the tunnel sent after the head
        conn.close_after_response()  # what follows is not HTTP: no request comes after this one
        self.status = 101
        self.long_lived = True
        rest = conn.take_buffer()
        transport.protocol = protocol
        transport.defer(protocol.connection_made, transport)
        if rest:
            transport.defer(protocol.data_received, rest)

    def _may_start(self) -> bool:
        """False once the connection is gone. Raises StateError if a response was already started."""
        if self.aborted:
            return False
        if self.finished or self._conn.response_started:
            raise StateError("the response was already started")
        return True

    def write(self, data: bytes) -> None:
        """Queue a piece of the body. Raises StateError before start_response or past Content-Length."""
        if self._may_send():
            framed = self._conn.send_data(data)
            if framed:
                self._transport.write(framed)

    def write_file(self, file: BinaryIO, offset: int, count: int, *, owns_file: bool = False) -> None:
        """Queue ``count`` bytes of ``file`` from ``offset``, sent with os.sendfile. With ``owns_file``
        the file is closed once sent (or when the connection ends)."""
        try:
            if not self._may_send():
                if owns_file:
                    file.close()
                return
            before, after = self._conn.send_file(count)
        except StateError:
            if owns_file:
                file.close()
            raise
        if not self._conn.sends_body:
            if owns_file:
                file.close()
            return
        transport = self._transport
        if before:
            transport.write(before)
        transport.write_file(file, offset, count, owns_file)
        if after:
            transport.write(after)

    def end(self) -> None:
        """Finish the response. A body shorter than its Content-Length cannot be repaired: the
        connection is closed so the client sees the truncation."""
        if not self._may_send():
            return
        try:
            tail = self._conn.end_response()
        except StateError as error:
            logger.error("%r: %s; closing the connection", self, error)
            self.abort()
            return
        if tail:
            self._transport.write(tail)
        self._ended(None)

    def _ended(self, body: int | None) -> None:
        """The last byte of the response is queued (``body`` bytes after its head, when it went whole;
        None for one that streamed: its body began at _body_at): log it once it has left, and if the
        handler answered after it returned, run the connection's next pass (the next request, or the
        close)."""
        self.finished = True
        self._on_abort = None  # they can no longer fire; a handler object they hold is freed now
        transport = self._transport
        response_counts(transport.counters, self.request.method)[self.status // 100] += 1
        if self._access_log is not None:
            end = transport.written
            if body is not None:
                self._body_at = end - body
            transport.when_sent(self._logged, end)
        if transport.trace is not None:
            transport.trace("response", f"{self.status} body={self._conn.body_bytes}")
        if self._resume is not None:
            transport.defer(self._resume)

    def _logged(self, sent: int, end: int) -> None:
        """The response's last byte (at ``end`` in the stream) has left, or the connection has ended
        with ``sent`` bytes out: one access log line, with the body bytes really sent (nginx's
        $body_bytes_sent)."""
        assert self._access_log is not None
        body_sent = max(0, min(sent, end) - self._body_at)
        client = self._transport.address[0]
        self._access_log(client, self.user or "-", self.request.request_line, self.status, body_sent)

    def fail(self) -> None:
        """The handler failed: answer 500 if no response has started, otherwise close the connection
        (a truncated body must not pass for a whole one). Nothing to do once finished or aborted."""
        if self.finished or self.aborted:
            return
        if not self._conn.response_started:
            self.respond_error(500)
        else:
            self.abort()

    def abort(self) -> None:
        """Give up on this response: close the connection now."""
        if not self.aborted and not self.finished:
            self._transport.abort("response aborted")

    def on_drain(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` once queued output is at or below the low-water mark: the signal for a
        producer (a WSGI worker thread, a generator) to queue more. Runs on the loop, never inside
        this call; if it raises, the handler has failed (a 500, or the connection cut). If the
        connection closes while the queue is above the mark, it is dropped (see ``on_abort``); one
        already scheduled still runs, and then finds ``aborted`` set."""
        self._transport.when_drained(self._run_handler_code, callback)

    def _run_handler_code(self, callback: Callable[[], object]) -> None:
        try:
            callback()
        except Exception:
            handler_failed(self)

    def on_abort(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` if the connection ends before the response does."""
        if self._on_abort is None:
            self._on_abort = []
        self._on_abort.append(callback)

    def connection_lost(self) -> None:
        """Called by the connection when it closes before this exchange finished."""
        if self.aborted or self.finished:
            return
        self.aborted = True
        if self.status and self._access_log is not None:  # a response begun and cut short: log what left
            self._logged(self._transport.sent, self._transport.sent)
        callbacks, self._on_abort = self._on_abort or [], None
        for callback in callbacks:
            try:
                callback()
            except Exception:
                logger.exception("abort callback %r failed", callback)

    def _may_send(self) -> bool:
        """False once the connection is gone or the response ended. Raises StateError before
        start_response."""
        if self.aborted or self.finished:
            return False
        if not self._conn.response_started:
            raise StateError("start_response() must come first")
        return True


def handler_failed(exchange: Exchange) -> None:
    """Handler code raised: a bug in the handler, not a reason to stop serving. Log it, deliver no
    more of the body to it, and answer 500, or end the connection if the response has begun (its
    status line is gone: only a cut-short body can tell the client). The loop lives on."""
    logger.exception("handler failed on %r", exchange.request)
    exchange.stop_body_delivery()
    exchange.fail()


def response_counts(counters: Counters, method: str) -> list[int]:
    """The counts of responses to ``method`` by status class (index: the status's first digit), made
    on first use: its own for a standard method (or no method: ""), "other"'s for any other."""
    counts = counters.responses.get(method)  # a method seen before: its own counts (or "other"'s)
    if counts is None:
        key = method if method in _COUNTED_METHODS or not method else "other"
        counts = counters.responses.setdefault(key, [0] * 10)  # a status is 100 to 999 (status_line)
    return counts


Handler = Callable[[Exchange], None]
# What a handler may offer besides: ``prepared_answer(request)``, the whole response it would send for
# ``request`` with respond_prepared, made before (a cached file's 200 or 304, a known 404), or None
# when it has none. Asked before the handler is called, it must do nothing else: what it gives is sent
# for the handler, with no Exchange made (HTTPConnection._answer_at_once).
PreparedAnswer = Callable[[Request], PreparedResponse | None]
