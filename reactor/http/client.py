"""The client side of one HTTP/1.1 connection, with no I/O: what the reverse proxy speaks to a backend.

A request goes in as calls (``send_request``, then ``send_data`` and ``end_request`` for its body) and
comes out as the bytes to send, framed by us: the request line rebuilt from its parts, our own
Content-Length or chunked coding. The backend's bytes go in through ``receive_data``; ``next_event``
hands out the response head (interim 1xx heads too), its body data and its end, or a Signal
(NEED_DATA; PEER_CLOSED when the backend closed before sending a byte of the response; PAUSED once
the response is complete, or after 101, when the bytes that follow are no longer HTTP). The body's
framing follows RFC 9112 6.3: none after HEAD, 1xx, 204 and 304; chunked; Content-Length; or until
the backend closes. A response that breaks the rules raises ProtocolError(502): a proxy answers an
invalid response from upstream with 502 (Bad Gateway, RFC 9110 15.6.3).

The field syntax, the chunked reader and the receive buffer are the request parser's.
"""

from __future__ import annotations

import re

from reactor.http.errors import ProtocolError, StateError
from reactor.http.events import NEED_DATA, PAUSED, PEER_CLOSED, Data, EndOfMessage, Headers, Signal
from reactor.http.fields import FieldLineCache, split_list
from reactor.http.framing import BodyReader, ChunkedReader, ContentLengthReader
from reactor.http.receivebuffer import ReceiveBuffer
from reactor.http.writer import encode_fields

# RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]. A reason is ignored
# (RFC 9112 4: a client SHOULD ignore it); a line without the SP before it is taken too, as h11 does.
_STATUS_LINE = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: [\t \x21-\x7e\x80-\xff]*)?", re.ASCII)
_VERSION_PREFIX = b"HTTP/"
# RFC 9112 2.2: a CR that no LF follows, or a LF that no CR precedes; refused in a response head as in a
# request head: a proxy that reads two fields where the backend meant one would split the response.
_BARE_LINE_END = re.compile(rb"\r(?!\n)|(?<!\r)\n")
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_MAX_CONTENT_LENGTH_DIGITS = 18  # more is beyond any body and beyond a C long
# A response body is streamed, never held: no limit on its size. The bound only keeps the readers'
# arithmetic in integers a C long holds.
_UNBOUNDED = 1 << 62


class ResponseHead:
    """A parsed response head: the status, the version, the fields (names lower-cased), and how its
    body is framed (``content_length``, ``chunked``; neither: none, or until the close)."""

    __slots__ = ("status", "version", "headers", "content_length", "chunked")

    def __init__(self, status: int, version: str, headers: Headers, content_length: int | None, chunked: bool) -> None:
        self.status = status
        self.version = version
        self.headers = headers
        self.content_length = content_length
        self.chunked = chunked

    def __repr__(self) -> str:
        return f"<ResponseHead {self.status} {self.version}>"


class ClientConnection:
    """One connection to a backend, one request at a time. ``max_head`` and ``max_headers`` bound a
    response head (502 past them). ``field_lines``: the field lines parsed before, shared by the
    connections to one backend (a backend repeats most of its lines on every response)."""

    __slots__ = (
        "_buffer",
        "_eof",
        "_max_head",
        "_max_headers",
        "_method",
        "_upgrade",
        "_request_remaining",
        "_request_chunked",
        "request_complete",
        "_head",
        "_body",
        "_until_close",
        "response_complete",
        "switched",
        "_received",
        "_persists",
        "_scanned",
        "_field_lines",
    )

    def __init__(self, *, max_head: int, max_headers: int, field_lines: FieldLineCache | None = None) -> None:
        self._buffer = ReceiveBuffer()
        self._field_lines = field_lines if field_lines is not None else FieldLineCache()
        self._eof = False
        self._max_head = max_head
        self._max_headers = max_headers
        self._method = ""  # of the request in flight; "" between cycles
        self._upgrade = False  # it asked to switch protocols (Upgrade)
        self._request_remaining: int | None = None  # body bytes still owed under its Content-Length
        self._request_chunked = False
        self.request_complete = False  # every byte of the request has been handed out
        self._head: ResponseHead | None = None  # the final response head, once in
        self._body: BodyReader | None = None
        self._until_close = False  # the body ends with the connection
        self.response_complete = False
        self.switched = False  # a 101 came: what follows belongs to another protocol (take_buffer)
        self._received = False  # a byte of this cycle's response arrived
        self._persists = False
        self._scanned = 0  # bytes of an unfinished head already searched for a bare CR or LF

    def __repr__(self) -> str:
        return f"<ClientConnection {self._method or 'idle'} buffered={len(self._buffer)}>"

    # -- sending ----------------------------------------------------------------------------------

    def send_request(
        self,
        method: str,
        target: str,
        fields: list[tuple[str, str]],
        content_length: int | None = None,
        *,
        chunked: bool = False,
        upgrade: bool = False,
    ) -> bytes:
        """Return the request head: ``method target HTTP/1.1``, ``fields``, then the body's framing,
        ours: ``Content-Length`` when given, ``Transfer-Encoding: chunked`` with ``chunked``, neither for
        a request without a body. ``upgrade``: the fields ask to switch protocols, so a 101 may answer.
        Raises ValueError for a field holding CR, LF or NUL; StateError while a cycle is not done."""
        if self._method:
            raise StateError("a request is already in flight on this connection")
        block = encode_fields(fields)
        if chunked:
            framing = b"Transfer-Encoding: chunked\r\n"
        elif content_length is not None:
            framing = b"Content-Length: %d\r\n" % content_length
        else:
            framing = b""
        self._method = method
        self._upgrade = upgrade
        self._request_chunked = chunked
        self._request_remaining = None if chunked else content_length or 0
        self.request_complete = not chunked and not content_length
        return b"%s %s HTTP/1.1\r\n%s%s\r\n" % (method.encode("ascii"), target.encode("ascii"), block, framing)

    def send_data(self, data: bytes) -> bytes:
        """Return the bytes that carry ``data`` in the request body. Raises StateError past the
        declared Content-Length, or once the request is complete."""
        if self.request_complete or not self._method:
            raise StateError("no request body is being sent")
        if not data:
            return b""
        if self._request_chunked:
            return b"%x\r\n%s\r\n" % (len(data), data)
        assert self._request_remaining is not None
        if len(data) > self._request_remaining:
            raise StateError("request body longer than its Content-Length")
        self._request_remaining -= len(data)
        return data

    def end_request(self) -> bytes:
        """Return the bytes that end the request body. Raises StateError when a declared length was
        not met."""
        if self.request_complete or not self._method:
            raise StateError("no request body is being sent")
        if self._request_remaining:
            raise StateError(f"request ended {self._request_remaining} bytes short of its Content-Length")
        self.request_complete = True
        return b"0\r\n\r\n" if self._request_chunked else b""

    # -- receiving --------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Append bytes from the backend; ``b""`` records that it will send nothing more."""
        if data:
            self._buffer.extend(data)
        else:
            self._eof = True

    def next_event(self) -> ResponseHead | Data | EndOfMessage | Signal:
        """Return the next response event, or a Signal. Raises ProtocolError(502) for a response that
        breaks HTTP/1.1 or the limits, or that the backend cut short."""
        if self.switched or self.response_complete:
            return PAUSED
        if not self._method:
            if self._buffer:
                raise ProtocolError(502, "the backend sent bytes before any request")
            return PEER_CLOSED if self._eof else NEED_DATA
        if self._head is None:
            return self._next_head()
        return self._next_body_event()

    def _next_head(self) -> ResponseHead | EndOfMessage | Signal:
        buffer = self._buffer
        if buffer:
            self._received = True
        head = buffer.maybe_extract_head()
        if head is None:
            if buffer:
                self._check_incomplete_head()
            if self._eof:
                if not buffer and not self._received:
                    return PEER_CLOSED
                raise ProtocolError(502, "the backend closed the connection inside the response head")
            return NEED_DATA
        self._scanned = 0
        response = self._parse_head(head)
        if response.status < 200 and response.status != 101:
            return response  # interim (100, 103...): the final head follows
        self._head = response
        if response.status == 101:
            if not self._upgrade:
                raise ProtocolError(502, "the backend switched protocols without being asked to")
            self.switched = True
            return response
        version_persists = response.version == "HTTP/1.1"
        connection = split_list(response.headers.get_all("connection"))
        if self._method == "HEAD" or response.status in (204, 304):
            self._body = None  # RFC 9112 6.3: no body, whatever the fields say
        elif response.chunked:
            self._body = ChunkedReader(_UNBOUNDED, self._max_head)
        elif response.content_length is not None:
            self._body = ContentLengthReader(response.content_length)
        else:
            self._body = ContentLengthReader(_UNBOUNDED)  # RFC 9112 6.3 item 8: until the close
            self._until_close = True
        self._persists = version_persists and "close" not in connection and not self._until_close
        return response

    def _check_incomplete_head(self) -> None:
        """Refuse at once, in the order the bytes come, what cannot become a response head: a start
        other than ``HTTP/``, a bare CR or LF, a head past ``max_head``; as ``_parse_head`` refuses a
        whole one. Raises ProtocolError(502)."""
        buffer = self._buffer
        if not _VERSION_PREFIX.startswith(buffer.peek(len(_VERSION_PREFIX))):
            raise ProtocolError(502, "the backend's answer is not HTTP")
        # Hold back a final CR: the LF that makes it a line end may come next. Each byte is searched
        # once however the head trickles in.
        stop = len(buffer) - 1 if buffer[-1] == 13 else len(buffer)
        if buffer.search(_BARE_LINE_END, self._scanned, stop):
            raise ProtocolError(502, "a bare CR or LF in the backend's response head")
        self._scanned = max(self._scanned, stop)
        if len(buffer) > self._max_head:
            raise ProtocolError(502, "the backend's response head is too large")

    def _parse_head(self, head: bytes) -> ResponseHead:
        """Check a whole response head and return it. Raises ProtocolError(502)."""
        if not head.startswith(_VERSION_PREFIX):
            raise ProtocolError(502, "the backend's answer is not HTTP")
        if _BARE_LINE_END.search(head) is not None:
            raise ProtocolError(502, "a bare CR or LF in the backend's response head")
        if len(head) > self._max_head:
            raise ProtocolError(502, "the backend's response head is too large")
        lines = head.split(b"\r\n")
        del lines[-2:]  # the empty line, and what follows its CRLF
        match = _STATUS_LINE.fullmatch(lines[0])
        if match is None:
            raise ProtocolError(502, "a malformed status line from the backend")
        major, minor, code = match.groups()
        if major != b"1":
            raise ProtocolError(502, "the backend does not speak HTTP/1")
        status = int(code)
        if status < 100:
            raise ProtocolError(502, f"status {status} from the backend")
        if len(lines) - 1 > self._max_headers:
            raise ProtocolError(502, "too many header fields from the backend")
        headers = Headers()
        fields = self._field_lines
        try:
            for line in lines[1:]:
                field = fields.get(line)
                headers.append(field if field is not None else fields.parse(line))
        except ProtocolError as error:
            raise ProtocolError(502, f"{error.reason} from the backend") from None
        version = "HTTP/1.0" if minor == b"0" else "HTTP/1.1"
        content_length, chunked = _body_framing(headers, version)
        return ResponseHead(status, version, headers, content_length, chunked)

    def take_whole_body(self) -> bytes | None:
        """Right after a final head framed by Content-Length, its whole body if it has all arrived
        (a small response, in the read that brought its head), which completes the response;
        otherwise None, and the body comes as events."""
        head = self._head
        reader = self._body
        if head is None or type(reader) is not ContentLengthReader or self._until_close:
            return None
        if reader.remaining != head.content_length or len(self._buffer) < reader.remaining:
            return None
        body = self._buffer.maybe_extract_at_most(reader.remaining) if reader.remaining else b""
        reader.remaining = 0
        self.response_complete = True
        return body

    def _next_body_event(self) -> Data | EndOfMessage | Signal:
        reader = self._body
        event: Data | EndOfMessage | None
        if reader is None:
            event = EndOfMessage()
        else:
            try:
                event = reader.read(self._buffer)
            except ProtocolError as error:
                raise ProtocolError(502, f"{error.reason} from the backend") from None
        if event is None:
            if not self._eof:
                return NEED_DATA
            if not self._until_close:
                raise ProtocolError(502, "the backend closed the connection inside the response body")
            event = EndOfMessage()
        if type(event) is EndOfMessage:
            self.response_complete = True
        return event

    # -- the cycle --------------------------------------------------------------------------------

    @property
    def received(self) -> bool:
        """A byte of the current response has arrived."""
        return self._received or bool(self._buffer)

    @property
    def reusable(self) -> bool:
        """Both halves of the cycle are complete and the connection may carry another request: the
        response was HTTP/1.1, framed by its length or chunks, without ``Connection: close``; nothing
        of the backend's is left unread."""
        return (
            self.request_complete and self.response_complete and self._persists and not self._buffer and not self._eof
        )

    def start_next_cycle(self) -> None:
        """Get ready for the next request. Raises StateError unless the connection is reusable."""
        if not self.reusable:
            raise StateError("this connection cannot carry another request")
        self._method = ""
        self._upgrade = False
        self._request_remaining = None
        self._request_chunked = False
        self.request_complete = False
        self._head = None
        self._body = None
        self.response_complete = False
        self._received = False
        self._persists = False

    def take_buffer(self) -> bytes:
        """What the backend sent after the response head of a 101: the first bytes of the protocol
        switched to. Leaves the buffer empty."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


def _body_framing(headers: Headers, version: str) -> tuple[int | None, bool]:
    """Return (Content-Length or None, chunked) of a response head, per RFC 9112 6.3. Raises
    ProtocolError(502) for framing a proxy cannot pass on safely."""
    transfer_encoding = headers.get_all("transfer-encoding")
    content_length = headers.get_all("content-length")
    if transfer_encoding:
        if content_length:
            # RFC 9112 6.3 item 3: both may be an attempt at response splitting; "ought to be handled
            # as an error".
            raise ProtocolError(502, "both Transfer-Encoding and Content-Length from the backend")
        if version == "HTTP/1.0":
            # RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message: the framing is faulty.
            raise ProtocolError(502, "Transfer-Encoding in an HTTP/1.0 response from the backend")
        if split_list(transfer_encoding) != ["chunked"]:
            # Any other coding (gzip, chunked) would have to be decoded or passed on, and the field
            # is hop-by-hop: we do neither.
            raise ProtocolError(502, "a transfer coding other than chunked from the backend")
        return None, True
    if not content_length:
        return None, False
    values = {item.strip(" \t") for value in content_length for item in value.split(",")}
    if len(values) != 1:
        # RFC 9112 6.3 item 5: an invalid Content-Length is an unrecoverable error: a proxy sends 502.
        raise ProtocolError(502, "conflicting Content-Length values from the backend")
    value = values.pop()
    if _DIGITS.fullmatch(value) is None or len(value.lstrip("0")) > _MAX_CONTENT_LENGTH_DIGITS:
        raise ProtocolError(502, "an invalid Content-Length from the backend")
    return int(value), False
