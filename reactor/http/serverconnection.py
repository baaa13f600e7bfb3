"""The server side of one HTTP/1.1 connection, both directions, with no I/O (h11's shape).

Bytes from the peer go in through ``receive_data``; ``next_event`` hands out the request head, its body
data and its end, or a Signal (NEED_DATA, PAUSED, PEER_CLOSED). The response goes in as calls
(``start_response``, ``send_data`` / ``send_file``, ``end_response``; ``send_error`` for the server's
own answer) and comes out as the bytes to send. Once both halves are DONE, ``start_next_cycle`` lets the
next request in. Every phase change goes through the cycle's table (state.py), and whether the
connection persists after a response is decided in one place, ``_persists``, when the response starts.

The usual request takes two calls instead: ``whole_request`` for a read that is exactly one head, and
``send_prepared_at_once`` for a response made before that leaves the connection open; each does what
the calls it stands for do, with the same bytes and state (tests/http/test_fast_paths.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from reactor.http.errors import ProtocolError, StateError
from reactor.http.events import NEED_DATA, PAUSED, PEER_CLOSED, EndOfMessage, Event, Request
from reactor.http.fields import FieldLineCache, split_list
from reactor.http.parser import HeadCache, RequestLineCache, RequestParser
from reactor.http.receivebuffer import HEAD_END
from reactor.http.state import (
    BODY_PHASES,
    CLOSE,
    DONE,
    ERROR,
    HANDLING,
    IDLE,
    MUST_CLOSE,
    NEXT_CYCLE,
    NEXT_PHASE,
    RECEIVING_BODY,
    REQUEST_END,
    REQUEST_HEAD,
    REQUEST_HEAD_WITH_BODY,
    RESPONSE_END,
    RESPONSE_START,
    Phase,
    Transition,
)
from reactor.http.writer import (
    HTTP_VERSIONS,
    FieldBlock,
    PreparedResponse,
    ResponseWriter,
    encode_fields,
    error_page,
    interim_continue,
)

ERROR_CONTENT_TYPE = ("Content-Type", "text/html; charset=utf-8")  # of error_page's HTML
_ERROR_FIELDS = encode_fields([ERROR_CONTENT_TYPE])

Fields = Iterable[tuple[str, str]] | FieldBlock  # a list of (name, value), or fields encoded once


class ServerConnection:
    """One connection's request/response cycles. ``date()`` gives the Date field's value (the caller
    owns the clock); the limits bound what a request may make us hold (RFC 9112 2.3, 5; 413 past
    ``max_body``), and a body the handler will not read is drained, to keep the connection, only up to
    ``max_discard`` bytes. ``field_lines``, ``request_lines``, ``heads``: the lines and heads already
    parsed, shared by the connections of one server (FieldLineCache, RequestLineCache, HeadCache)."""

    __slots__ = (
        "phase",
        "observer",
        "_parser",
        "_buffer",
        "receive_data",
        "_date",
        "_max_discard",
        "request",
        "_writer",
        "_keep_alive",
        "_close_wanted",
        "_continue_sent",
        "_protocol",
    )

    def __init__(
        self,
        *,
        max_request_line: int,
        max_head: int,
        max_headers: int,
        max_body: int,
        max_discard: int,
        date: Callable[[], bytes],
        protocol: str = "HTTP/1.1",
        field_lines: FieldLineCache | None = None,
        request_lines: RequestLineCache | None = None,
        heads: HeadCache | None = None,
    ) -> None:
        if protocol not in HTTP_VERSIONS:
            raise ValueError(f"unsupported protocol {protocol!r}: want one of {', '.join(HTTP_VERSIONS)}")
        self.phase = IDLE
        # Told (old phase, new phase, transition) after each phase change, for a trace; None costs nothing.
        self.observer: Callable[[Phase, Phase, Transition], object] | None = None
        self._parser = RequestParser(
            max_request_line=max_request_line,
            max_head=max_head,
            max_headers=max_headers,
            max_body=max_body,
            field_lines=field_lines,
            request_lines=request_lines,
            heads=heads,
        )
        self._buffer = self._parser.buffer  # what it has not parsed yet
        # receive_data(data): append received bytes; b"" records that the peer will send nothing
        # more. The parser's own method, bound here: one call per read, not two.
        self.receive_data: Callable[[bytes], None] = self._parser.receive_data
        self._date = date
        self._max_discard = max_discard
        self.request: Request | None = None  # of the current cycle, once its head is in
        self._writer: ResponseWriter | None = None  # of the current cycle, once its response started
        self._keep_alive = True  # decided by _persists when the response starts
        self._close_wanted = False  # close_after_response() was called
        self._continue_sent = False
        self._protocol = protocol  # the version we answer as: HTTP/1.1, or HTTP/1.0 (-p HTTP/1.0)

    def __repr__(self) -> str:
        return f"<ServerConnection {self.phase.value} buffered={len(self._parser.buffer)}>"

    # -- state ------------------------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        """Bytes received and not yet turned into events."""
        return len(self._buffer)

    @property
    def eof(self) -> bool:
        """The peer said it will send nothing more."""
        return self._parser.eof

    @property
    def response_started(self) -> bool:
        return self._writer is not None

    @property
    def sends_body(self) -> bool:
        """The current response carries its body (not HEAD, 1xx, 204 or 304)."""
        return self._writer is not None and self._writer.send_body

    @property
    def body_bytes(self) -> int:
        """Body bytes of the current response written so far, for the access log."""
        return self._writer.body_bytes if self._writer is not None else 0

    @property
    def keep_alive(self) -> bool:
        """Whether the connection persists after the current response."""
        return self._keep_alive and not self._close_wanted

    # -- receiving --------------------------------------------------------------------------------

    def next_event(self) -> Event:
        """Return the next request event, or NEED_DATA (feed more bytes), PAUSED (a request is
        complete and its response not done: the next request waits, so responses leave in order) or
        PEER_CLOSED (the peer closed between requests). Raises ProtocolError with the status to answer;
        the cycle is then in MUST_CLOSE, where ``send_error`` may still answer it."""
        phase = self.phase
        try:
            if phase is IDLE:
                parser = self._parser
                if not self._buffer:  # between keep-alive requests: nothing to look at
                    return PEER_CLOSED if parser.eof else NEED_DATA
                head = parser.next_head()
                if type(head) is Request:
                    self.request = head
                    with_body = head.chunked or head.content_length  # Request.has_body, without the call
                    self._apply(REQUEST_HEAD_WITH_BODY if with_body else REQUEST_HEAD)
                return head
            if phase in BODY_PHASES:
                body = self._parser.next_body_event()
                if type(body) is EndOfMessage:
                    self._apply(REQUEST_END)
                return body
        except ProtocolError:
            self._apply(ERROR)
            raise
        return PAUSED

    def whole_request(self, data: bytes) -> Request | None:
        """``receive_data(data)`` then ``next_event()``, for the usual read: exactly one whole request
        head (ending at its first empty line), between requests, with nothing buffered. The head is
        parsed as it came, not copied through the buffer, and the request is taken as next_event
        takes it. None, with nothing changed, for any other read: receive_data and next_event take
        it. Raises ProtocolError as next_event does."""
        if self.phase is not IDLE or self._buffer or len(data) < 4 or data[0] == 13:
            return None  # (a read that starts with an empty line: next_head skips it first)
        if data.find(HEAD_END) != len(data) - 4:
            return None
        try:
            request = self._parser.take_head(data)
        except ProtocolError:
            self._apply(ERROR)
            raise
        self.request = request
        self._apply(REQUEST_HEAD_WITH_BODY if request.chunked or request.content_length else REQUEST_HEAD)
        return request

    def send_prepared_at_once(self, response: PreparedResponse) -> tuple[bytes, bytes] | None:
        """``send_prepared(response)``, then ``start_next_cycle()`` if the connection persists, for a
        request whose body, if any, is all in, with no observer to tell of each phase. The same bytes
        and the same cycle in one step: the phase changes net out to IDLE, or to MUST_CLOSE (a
        property test holds the two ways to it: tests/http/test_fast_paths.py). None, with nothing
        changed, for any other request: send_prepared answers it."""
        request = self.request
        if self.phase is not HANDLING or self.observer is not None or request is None:
            return None
        keep_alive = self._persists(request, False, False, False)
        head, writer = response.framed(request.method, request.version, self._protocol, self._date(), keep_alive)
        # RESPONSE_START, RESPONSE_END, then NEXT_CYCLE or CLOSE, as _apply would make them.
        if keep_alive:
            self.phase = IDLE
            self.request = None
            self._continue_sent = False
        else:
            self.phase = MUST_CLOSE
            self._writer = writer
        self._keep_alive = keep_alive
        return head, response.body if writer.send_body else b""

    # -- sending ----------------------------------------------------------------------------------

    def send_continue(self) -> bytes:
        """The interim 100 (Continue) that invites the body of a request that asked for it, before
        any response (RFC 9110 10.1.1); b"" when none is owed."""
        request = self.request
        if request is None or not request.expect_continue or self._continue_sent or self._writer is not None:
            return b""
        if self._protocol == "HTTP/1.0":
            return b""  # HTTP/1.0 has no 1xx: the client sends its body after a short wait (RFC 9110 10.1.1)
        self._continue_sent = True
        return interim_continue()

    def start_response(
        self,
        status: int,
        fields: Fields,
        content_length: int | None = None,
        *,
        close: bool = False,
        reads_body: bool = False,
    ) -> bytes:
        """Return the response head. Without ``content_length`` the body is chunked (HTTP/1.1) or ends
        with the connection (HTTP/1.0). ``close``: the connection ends after this response.
        ``reads_body``: the request body, if still arriving, is wanted (otherwise it is drained or
        the connection closed). Raises ValueError for a status or a field that cannot be sent (CR, LF
        or NUL, or outside latin-1), before anything changes; StateError outside a cycle that owes a
        response."""
        block = fields if isinstance(fields, FieldBlock) else encode_fields(fields)
        request = self.request
        if request is None or self._writer is not None:
            raise StateError(f"no response can start in phase {self.phase.value!r}")
        writer = ResponseWriter(request.method, request.version, self._protocol)
        keep_alive = self._persists(request, writer.close_delimited(status, content_length), close, reads_body)
        head = writer.head(status, block, content_length, self._date(), keep_alive)  # ValueError: a bad status
        self._apply(RESPONSE_START)
        self._writer = writer
        self._keep_alive = keep_alive
        return head

    def _persists(self, request: Request, close_delimited: bool, close: bool, reads_body: bool) -> bool:
        """The one place that decides whether the connection outlives this response.
        ``close_delimited``: only the connection's close can end its body."""
        if close or self._close_wanted or not request.keep_alive:
            return False  # RFC 9112 9.3, 9.6: either side may end the connection after a response
        if self._protocol == "HTTP/1.0" and "keep-alive" not in split_list(request.headers.get_all("connection")):
            return False  # an HTTP/1.0 server persists only when the client asks for keep-alive (RFC 9112 C.2.2)
        if close_delimited:
            return False
        if self.phase is RECEIVING_BODY and not reads_body:
            # Answering before the body is in (a POST to a static file). RFC 9110 15.5: a server that
            # does not read the body must drain it or close. Drain only what is small and known.
            if request.expect_continue and not self._continue_sent:
                return False  # the client may or may not send the body now
            # By the body's declared size, not by what is still to arrive: the same request gets
            # the same answer however TCP cut it.
            if request.content_length is None or request.content_length > self._max_discard:
                return False
        return True

    def send_response(
        self, status: int, fields: Fields, body: bytes, close: bool = False, reads_body: bool = False
    ) -> bytes:
        """Return a whole response with a bytes ``body``: what start_response, send_data and
        end_response would give, in one call. Raises as start_response does."""
        block = fields if isinstance(fields, FieldBlock) else encode_fields(fields)
        request = self.request
        if request is None or self._writer is not None:
            raise StateError(f"no response can start in phase {self.phase.value!r}")
        writer = ResponseWriter(request.method, request.version, self._protocol)
        # With a Content-Length, a body is never delimited by the close.
        keep_alive = self._persists(request, False, close, reads_body)
        head = writer.head(status, block, len(body), self._date(), keep_alive)  # ValueError: a bad status
        framed = writer.body(body)  # with a Content-Length, nothing follows the body
        self._apply(RESPONSE_START)
        self._writer = writer
        self._keep_alive = keep_alive
        self._apply(RESPONSE_END)
        return head + framed

    def send_prepared(
        self, response: PreparedResponse, close: bool = False, reads_body: bool = False
    ) -> tuple[bytes, bytes]:
        """``send_response`` for a response made once and sent many times: the same bytes and the same
        cycle (a property test holds the two to it), returned as (head, body) so that a large body
        need not be copied behind its head. Raises StateError as start_response does."""
        request = self.request
        if request is None or self._writer is not None:
            raise StateError(f"no response can start in phase {self.phase.value!r}")
        keep_alive = self._persists(request, False, close, reads_body)
        head, writer = response.framed(request.method, request.version, self._protocol, self._date(), keep_alive)
        self._apply(RESPONSE_START)
        self._writer = writer
        self._keep_alive = keep_alive
        self._apply(RESPONSE_END)
        return head, response.body if writer.send_body else b""

    def send_data(self, data: bytes) -> bytes:
        """Return the bytes that carry ``data`` in the body. Raises StateError before start_response
        or past the declared Content-Length."""
        return self._writer_for_body().body(data)

    def send_file(self, count: int) -> tuple[bytes, bytes]:
        """Account for ``count`` body bytes sent from a file; return the framing to send before and
        after them. Raises StateError as send_data does."""
        return self._writer_for_body().file_part(count)

    def end_response(self) -> bytes:
        """Return the bytes that end the response, and move the cycle on. Raises StateError, changing
        nothing, when a declared length was not met."""
        tail = self._writer_for_body().end()
        self._apply(RESPONSE_END)
        return tail

    def send_error(self, status: int, detail: str) -> bytes:
        """Return a whole error response of the server's own (a protocol error, a timeout), after which
        the connection closes: the cycle goes to MUST_CLOSE and what is buffered is dropped. Raises
        StateError once a response has started (its status line is gone)."""
        if self._writer is not None:
            raise StateError("the response was already started")
        if self.phase is not MUST_CLOSE:  # after a ProtocolError, next_event has moved it there
            self._apply(ERROR)
        self._parser.discard_buffer()
        # The method decides whether a body may follow (not after HEAD); a head we could not parse
        # gets one.
        request = self.request
        writer = ResponseWriter(request.method if request is not None else "GET", "HTTP/1.1", self._protocol)
        self._writer = writer
        self._keep_alive = False
        body = error_page(status, detail)
        return writer.head(status, _ERROR_FIELDS, len(body), self._date(), False) + writer.body(body)

    def start_next_cycle(self) -> None:
        """Both halves are DONE and the connection persists: let the next request in. Raises
        StateError in any other phase."""
        self._apply(NEXT_CYCLE)
        self.request = None
        self._writer = None
        self._continue_sent = False

    def close_after_response(self) -> None:
        """End the connection after the current response (the server is shutting down): a response
        not yet started says so in its head."""
        self._close_wanted = True

    def discard_buffer(self) -> None:
        """Forget what is buffered (the connection is closing and will not parse it)."""
        self._parser.discard_buffer()

    def take_buffer(self) -> bytes:
        """What the peer sent past the current request, handed over once the connection stops
        speaking HTTP (101 Switching Protocols); the buffer is left empty."""
        buffer = self._parser.buffer
        data = bytes(buffer)
        buffer.clear()
        return data

    def _apply(self, transition: Transition) -> None:
        """The one place the phase changes, by the table. Raises StateError for a transition it does
        not list. A complete cycle whose connection does not persist goes on to MUST_CLOSE."""
        old = self.phase
        try:
            phase = NEXT_PHASE[transition][old]
        except KeyError:
            raise StateError(f"{transition.value!r} is not allowed in phase {old.value!r}") from None
        self.phase = phase
        if self.observer is not None:
            self.observer(old, phase, transition)
        if phase is DONE and (self._close_wanted or not self._keep_alive):
            self._apply(CLOSE)

    def _writer_for_body(self) -> ResponseWriter:
        writer = self._writer
        if writer is None:
            raise StateError("start_response() must come first")
        return writer
