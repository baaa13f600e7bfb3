"""The sans-IO request parser: fed bytes, it hands out request heads, body data and ends of message.

It never touches a socket. ``receive_data(data)`` appends bytes (``b""`` means the peer closed its
side); ``next_head()`` returns the next request head and ``next_body_event()`` the next piece of its
body, or a Signal (NEED_DATA, PEER_CLOSED) when there is none yet; both raise ProtocolError with the status
to answer when the bytes break HTTP/1.1. Which of the two to call is the cycle's business: the
ServerConnection (serverconnection.py) asks for a head only when the previous response is done, which is
what keeps pipelined responses in request order.
"""

from __future__ import annotations

import re
from typing import NoReturn

from reactor.http.errors import ProtocolError
from reactor.http.events import NEED_DATA, PEER_CLOSED, Data, EndOfMessage, Headers, Request, Signal
from reactor.http.fields import TOKEN_CHAR, FieldLineCache, LineCache, split_list
from reactor.http.framing import BodyReader, ChunkedReader, ContentLengthReader
from reactor.http.receivebuffer import ReceiveBuffer

# RFC 9112 3: method SP request-target SP HTTP-version, single spaces, no other whitespace. The target
# is visible ASCII without "#": RFC 9110 7.1, a fragment is never sent, so one in the target means a
# broken client, and a path that ends at "#" for one reader and not another is a confusion attack.
#
# RFC 9112 3.2 wants the target in ASCII; browsers percent-encode the rest, but curl and scripts send
# UTF-8 as it is (curl 'http://host/?q=ü'). Bytes 0x80-0xFF are accepted in the target and
# percent-encoded where they stand (_percent_encoded), so nothing past the parser ever sees them raw:
# not the path checks, not the file system, not a log. They cannot change framing (no SP, CR, LF or
# control byte is among them). docs/limits.md, "Strictness".
_REQUEST_LINE = re.compile(rb"(" + TOKEN_CHAR + rb"+) ([\x21\x22\x24-\x7e\x80-\xff]+) HTTP/([0-9])\.([0-9])", re.ASCII)
# What can never appear in a request line that has not ended yet: a control byte, or a CR that
# something other than LF follows (RFC 9112 2.2). Scanned as bytes arrive, so garbage that starts like
# a request is answered at once, not after the header timeout.
_NOT_IN_REQUEST_LINE = re.compile(rb"[\x00-\x0c\x0e-\x1f\x7f]|\r.", re.ASCII | re.DOTALL)
_NON_ASCII = re.compile(rb"[\x80-\xff]")
# RFC 9112 2.2: a CR that no LF follows, or a LF that no CR precedes. Both are refused anywhere in a
# head (and in chunked framing: framing.py): a front end that passes a bare LF inside a field value
# would otherwise have us read two fields where it saw one (request smuggling). docs/limits.md.
_BARE_LINE_END = re.compile(rb"\r(?!\n)|(?<!\r)\n")
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
# RFC 9110 7.2 / RFC 3986 3.2.2: Host = uri-host [ ":" port ]; uri-host is an IP literal or a reg-name.
# The reg-name is written as runs of its plain characters between escapes, (?:plain|%HH)* unrolled to
# plain*(?:%HH plain*)*: the same strings, matched a run at a time instead of one alternation per
# character (a third of the cost, and Host is checked on every request).
_REG_NAME_CHAR = r"[A-Za-z0-9\-._~!$&'()*+,;=]"
_URI_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|" + _REG_NAME_CHAR + r"*(?:%[0-9A-Fa-f]{2}" + _REG_NAME_CHAR + r"*)*)"
_HOST = re.compile(_URI_HOST + r"(?::[0-9]*)?", re.ASCII)
# RFC 9112 3.2.3: authority-form = uri-host ":" port, the target of CONNECT only.
_AUTHORITY_FORM = re.compile(_URI_HOST + r":[0-9]+", re.ASCII)
_ABSOLUTE_FORM = re.compile(r"([A-Za-z][A-Za-z0-9+\-.]*)://([^/?#]*)([^#]*)", re.ASCII)
# RFC 3986 2.1: pct-encoded = "%" HEXDIG HEXDIG. Checked in the path only, the part we decode: a
# malformed escape there has no single meaning (nginx answers 400 too); the query stays opaque.
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})", re.ASCII)
# The first bytes of a request: a method token, then a space. Checked before the head is complete so
# that a TLS ClientHello or binary garbage is answered at once instead of after the header timeout.
_REQUEST_START = re.compile(TOKEN_CHAR + rb"*(?: |\Z)", re.ASCII)
_REQUEST_START_BYTES = 32
_MAX_CONTENT_LENGTH_DIGITS = 18  # anything longer is beyond every limit and beyond a C long
# Fields that change a request's framing or persistence; most requests carry none of them.
_FRAMING_FIELDS = frozenset({"transfer-encoding", "content-length", "connection", "expect"})


# What a valid request line gives: method, target, version, path, query, and the host an
# absolute-form target names (or None).
RequestLine = tuple[str, str, str, str, str, str | None]


class RequestLineCache(LineCache[RequestLine]):
    """Request lines (``GET /app.js HTTP/1.1``) already parsed and their targets split: the pages and
    assets a site serves are asked for again and again, by every client."""


# What a valid head gives, in the order Request takes it; each request gets its own Request and Headers.
ParsedHead = tuple[str, str, str, str, str, Headers, str, int | None, bool, bool, bool]


class HeadCache(LineCache[ParsedHead]):
    """Whole request heads already parsed: a client repeats its head byte for byte from one request to
    the next, and so does a load generator, so a head seen before costs one dict lookup and a new
    Request. A head's parse depends on its bytes and the server's limits alone: shared by the
    connections of one server."""

    MAX_LINES = 256
    MAX_LINE = 4096


class RequestParser:
    """Turns a byte stream into request events, enforcing the limits it is given.

    ``max_request_line`` (414), ``max_head`` (431, the whole head), ``max_headers`` (431, field count)
    and ``max_body`` (413) bound what one request may make us hold. ``field_lines``,
    ``request_lines`` and ``heads`` keep the lines and heads parsed before (FieldLineCache,
    RequestLineCache, HeadCache); give them to share them between connections.
    """

    def __init__(
        self,
        *,
        max_request_line: int,
        max_head: int,
        max_headers: int,
        max_body: int,
        field_lines: FieldLineCache | None = None,
        request_lines: RequestLineCache | None = None,
        heads: HeadCache | None = None,
    ) -> None:
        self.buffer = ReceiveBuffer()  # received, not yet turned into events: callers only read it
        # Shared by the connections of one server when given: see LineCache.
        self._field_lines = field_lines if field_lines is not None else FieldLineCache()
        self._request_lines = request_lines if request_lines is not None else RequestLineCache()
        self._heads = heads if heads is not None else HeadCache()
        self._body: BodyReader | None = None
        self.eof = False  # the peer will send nothing more: callers only read it
        self._max_request_line = max_request_line
        self._max_head = max_head
        self._max_headers = max_headers
        self._max_body = max_body
        self._line_scanned = 0  # bytes of an unfinished request line already checked
        self._line_checked = False  # the request line of the head being received is complete and valid
        self._fields_scanned = 0  # and, once it is, how far the rest was searched for a bare CR or LF

    # -- feeding ---------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Append received bytes; ``b""`` records that the peer will send nothing more."""
        if data:
            self.buffer.extend(data)
        else:
            self.eof = True

    def discard_buffer(self) -> None:
        """Forget what is buffered (the connection is closing and will not parse it)."""
        self.buffer.clear()

    # -- events ----------------------------------------------------------------------------------

    def next_head(self) -> Request | Signal:
        """Return the next request head, or NEED_DATA. Call it only with bytes buffered or the end of
        the stream recorded (PEER_CLOSED then, when the peer closed between requests). Raises
        ProtocolError with the status to answer."""
        buffer = self.buffer
        if buffer and buffer[0] == 13:
            buffer.skip_leading_empty_lines()
        head = buffer.maybe_extract_head()
        if head is None:
            if buffer:
                self._check_incomplete_head()
            if self.eof:
                if not buffer:
                    return PEER_CLOSED
                raise ProtocolError(400, "connection closed inside a request head")
            return NEED_DATA
        self._line_scanned = 0
        self._line_checked = False
        return self.take_head(head)

    def take_head(self, head: bytes) -> Request:
        """The request of ``head``, a whole head taken from the stream (up to and including the empty
        line that ends it), with its body's reader made ready: what ``next_head`` does with a head it
        found in the buffer, for a caller that has one without buffering it (a read that is exactly
        one head: ServerConnection.whole_request). Raises ProtocolError."""
        request = self._parse_head(head)
        if request.chunked:
            self._body = ChunkedReader(self._max_body, self._max_head)
        elif request.content_length:
            self._body = ContentLengthReader(request.content_length)
        else:
            self._body = None
        return request

    def _check_incomplete_head(self) -> None:
        """Reject a head that cannot become valid, before it is complete: a start that is no request
        (a TLS ClientHello, binary garbage), a byte no request line holds, a complete request line
        that is wrong, a bare CR or LF, or a head past its limits. Each is found where it lies, in the
        order the bytes come, as ``_parse_head`` finds it in a whole head: a request gets the same
        answer however its bytes are cut. Raises ProtocolError."""
        buffer = self.buffer
        size = len(buffer)
        _check_request_start(buffer.peek(_REQUEST_START_BYTES))
        if not self._line_checked:
            end = buffer.find_line_end()
            if end < 0:
                # No LF yet: scan only the bytes not scanned before, and hold back a final CR, which
                # may still be the start of the line's CRLF. Linear however the line trickles in.
                limit = min(size, self._max_request_line)
                if buffer.search(_NOT_IN_REQUEST_LINE, self._line_scanned, limit):
                    raise ProtocolError(400, "malformed request line")
                self._line_scanned = max(limit - 1, 0)
                if size > self._max_request_line + 1:  # + 1: the CR of a line that is just short enough
                    raise ProtocolError(414, "request line too long")
                return  # the line may still turn out too long: _parse_head checks it before the size
            self._parse_request_line(buffer.peek(end))
            self._line_checked = True
            self._fields_scanned = end + 1
        # Hold back a final CR: the LF that makes it a line end may come next.
        stop = size - 1 if buffer[size - 1] == 13 else size
        self._fields_scanned = self._check_line_ends(buffer, self._fields_scanned, stop)
        if size > self._max_head:
            raise ProtocolError(431, "request head too large")

    def _check_line_ends(self, data: bytes | bytearray, start: int, stop: int) -> int:
        """Raise ProtocolError(400) for the first bare CR or LF in ``data[start:stop]`` that lies within
        the head's limit (the byte just past it is looked at, to tell a CRLF from a bare CR); return
        where the next search of a growing head starts."""
        limit = self._max_head
        match = _BARE_LINE_END.search(data, start, min(stop, limit + 1))
        if match is not None and match.start() < limit:
            raise ProtocolError(400, "bare CR in the head" if data[match.start()] == 13 else "bare LF in the head")
        return max(start, min(stop, limit))

    def next_body_event(self) -> Data | EndOfMessage | Signal:
        """Return the next piece of the current request's body, its end, or NEED_DATA. Raises
        ProtocolError with the status to answer."""
        assert self._body is not None
        event = self._body.read(self.buffer)
        if event is None:
            if self.eof:
                raise ProtocolError(400, "connection closed inside a request body")
            return NEED_DATA
        return event

    # -- the head --------------------------------------------------------------------------------

    def _parse_request_line(self, line: bytes) -> tuple[str, str, str]:
        """Check a request line (up to its LF, the CR before it included); return (method, target,
        version). Raises ProtocolError: 414 when too long, 505 for a major version other than 1, else
        400 (a line not ended by CRLF among them)."""
        content = line[:-1] if line[-1:] == b"\r" else line
        if len(content) > self._max_request_line:
            if _NOT_IN_REQUEST_LINE.search(content, 0, self._max_request_line):
                raise ProtocolError(400, "malformed request line")
            raise ProtocolError(414, "request line too long")
        match = _REQUEST_LINE.fullmatch(content)
        if match is None:
            raise ProtocolError(400, "malformed request line")
        parts = _request_line_parts(match)
        if content is line:
            raise ProtocolError(400, "bare LF in the head")  # RFC 9112 2.2: the line ends in CRLF
        return parts

    def _refuse_head(self, head: bytes) -> NoReturn:
        """Raise the first thing wrong in a whole head that holds a bare CR or LF or is past
        ``max_head``, found in the order _check_incomplete_head finds it as the bytes come."""
        _check_request_start(head[:_REQUEST_START_BYTES])
        line_end = head.index(b"\n")
        self._parse_request_line(head[:line_end])
        self._check_line_ends(head, line_end + 1, len(head))
        raise ProtocolError(431, "request head too large")  # what is left: the head is past its limit

    def _check_head(self, head: bytes, request_line: bytes, lines: list[bytes]) -> tuple[RequestLine, Headers]:
        """Check a head with a line not seen before, in the order _check_incomplete_head checks one
        that grows: its start and request line, bare CR and LF, its size, then the number of its
        fields and each field, then the target. Return the request line's parts and the fields.
        Raises ProtocolError."""
        crlf = len(lines) + 2
        if len(head) > self._max_head or head.count(b"\n") != crlf or head.count(b"\r") != crlf:
            self._refuse_head(head)
        known_line = self._request_lines.get(request_line)
        if known_line is None:
            match = _REQUEST_LINE.fullmatch(request_line) if len(request_line) <= self._max_request_line else None
            if match is None:
                _check_request_start(head[:_REQUEST_START_BYTES])
                self._parse_request_line(head[: len(request_line) + 1])  # raises: it says what is wrong
            assert match is not None
            method, target, version = _request_line_parts(match)
        if len(lines) > self._max_headers:
            raise ProtocolError(431, "too many header fields")
        fields = self._field_lines
        headers = Headers()
        for line in lines:
            field = fields.get(line)
            headers.append(field if field is not None else fields.parse(line))
        if known_line is None:  # the target is checked after the fields, as it always was
            known_line = (method, target, version, *_split_target(method, target))
            self._request_lines.remember(request_line, known_line)
        return known_line, headers

    def _parse_head(self, head: bytes) -> Request:
        parsed = self._heads.get(head)
        if parsed is not None:  # seen before, byte for byte: it parses as it did then
            request = Request(*parsed)
            request.headers = Headers(request.headers)  # its own: a handler may change its fields
            return request
        lines = head.split(b"\r\n")
        request_line = lines[0]
        del lines[0], lines[-2:]  # the request line, the empty line and what follows its CRLF: the fields
        line = self._request_lines.get(request_line)
        fields = self._field_lines
        headers = Headers()
        # Lines seen before were checked then (none holds a CR or LF): a head made only of them has
        # only its size and field count left to check. Any other takes every check, in order.
        known = line is not None and len(head) <= self._max_head and len(lines) <= self._max_headers
        if known:
            for field_line in lines:
                field = fields.get(field_line)
                if field is None:
                    known = False
                    break
                headers.append(field)
        if not known or line is None:
            line, headers = self._check_head(head, request_line, lines)
        method, target, version, path, query, target_host = line
        names = dict(headers)  # each name with its last value, gathered in C
        host = names.get("host")
        # A Host seen valid before, alone in a head where no name repeats (the usual head), is valid.
        if host is None or host not in fields.hosts or target_host is not None or len(names) != len(headers):
            hosts = headers.get_all("host")
            host = _host(hosts, version, target_host)
            if len(hosts) == 1:
                fields.remember_host(hosts[0])
        # Most requests carry none of the fields that change framing or persistence. RFC 9112 9.3:
        # an HTTP/1.0 connection persists only if the client asks for keep-alive.
        if _FRAMING_FIELDS.isdisjoint(names):
            content_length, chunked, keep_alive, expect_continue = None, False, version == "HTTP/1.1", False
        else:
            content_length, chunked, keep_alive, expect_continue = self._framing(headers, names, version)
        framing = (content_length, chunked, keep_alive, expect_continue)
        # The cache keeps its own copy of the fields: the request's may be changed by its handler.
        self._heads.remember(head, (method, target, path, query, version, Headers(headers), host, *framing))
        return Request(method, target, path, query, version, headers, host, *framing)

    def _framing(self, headers: Headers, names: dict[str, str], version: str) -> tuple[int | None, bool, bool, bool]:
        """(Content-Length or None, chunked, keep-alive, expect 100-continue) of a head that holds a
        field changing framing or persistence; ``names``: its field names. Raises ProtocolError."""
        content_length: int | None = None
        chunked = expect_continue = False
        connection: list[str] = []
        if "transfer-encoding" in names or "content-length" in names:
            content_length, chunked = self._body_framing(headers, version)
        if "connection" in names:
            connection = split_list(headers.get_all("connection"))
        if "expect" in names:
            if split_list(headers.get_all("expect")) != ["100-continue"]:
                # RFC 9110 10.1.1: an expectation we cannot meet may be answered 417.
                raise ProtocolError(417, "unsupported expectation")
            # RFC 9110 10.1.1: a 100-continue in an HTTP/1.0 request MUST be ignored.
            expect_continue = version == "HTTP/1.1"
        if version == "HTTP/1.1":
            keep_alive = "close" not in connection
        else:
            keep_alive = "keep-alive" in connection and "close" not in connection
        return content_length, chunked, keep_alive, expect_continue

    def _body_framing(self, headers: Headers, version: str) -> tuple[int | None, bool]:
        """Return (Content-Length or None, chunked) per RFC 9112 6.3. Raises ProtocolError."""
        transfer_encoding = headers.get_all("transfer-encoding")
        content_length = headers.get_all("content-length")
        if transfer_encoding:
            if content_length:
                # RFC 9112 6.1 / 6.3: T-E with C-L is a request smuggling vector; reject it outright.
                raise ProtocolError(400, "both Transfer-Encoding and Content-Length")
            if version == "HTTP/1.0":
                # RFC 9112 6.1: T-E in an HTTP/1.0 message means the framing is faulty.
                raise ProtocolError(400, "Transfer-Encoding in an HTTP/1.0 request")
            codings = split_list(transfer_encoding)
            if not codings or codings[-1] != "chunked":
                # RFC 9112 6.3: a request whose final coding is not chunked cannot be framed: 400.
                raise ProtocolError(400, "final transfer coding is not chunked")
            if "chunked" in codings[:-1]:
                raise ProtocolError(400, "chunked applied more than once")
            if len(codings) > 1:
                # RFC 9112 6.1: a transfer coding we do not implement is answered 501.
                raise ProtocolError(501, "transfer coding not implemented")
            return None, True
        if not content_length:
            return None, False
        values = {item.strip(" \t") for value in content_length for item in value.split(",")}
        if len(values) != 1:
            # RFC 9110 8.6: differing values (or an empty element) cannot be trusted.
            raise ProtocolError(400, "conflicting Content-Length values")
        value = values.pop()
        if _DIGITS.fullmatch(value) is None:
            # int() would accept "+1", "1_0", " 1" and non-ASCII digits: each a smuggling bug elsewhere.
            raise ProtocolError(400, "invalid Content-Length")
        if len(value.lstrip("0")) > _MAX_CONTENT_LENGTH_DIGITS:
            raise ProtocolError(413, f"request body over the limit of {self._max_body} bytes")
        length = int(value)
        if length > self._max_body:
            raise ProtocolError(413, f"request body over the limit of {self._max_body} bytes")
        return length, False


def _request_line_parts(match: re.Match[bytes]) -> tuple[str, str, str]:
    """(method, target, version) of a request line that matched. Raises ProtocolError(505)."""
    method, target, major, minor = match.groups()
    if major != b"1":
        # RFC 9110 15.6.6: 505 for a major version we do not support.
        raise ProtocolError(505, "HTTP version not supported")
    # RFC 9110 6.2: a higher 1.x minor version is answered as HTTP/1.1.
    version = "HTTP/1.0" if minor == b"0" else "HTTP/1.1"
    return method.decode("ascii"), (target if target.isascii() else _percent_encoded(target)).decode("ascii"), version


def _percent_encoded(target: bytes) -> bytes:
    """``target`` with each byte 0x80-0xFF written as %HH (RFC 3986 2.1), as a browser sends it."""
    return _NON_ASCII.sub(lambda byte: b"%%%02X" % byte[0][0], target)


def _check_request_start(prefix: bytes) -> None:
    """Raise ProtocolError(400) if ``prefix`` cannot begin a request line. A lone CR may still
    become an empty line before the request (RFC 9112 2.2)."""
    if prefix != b"\r" and _REQUEST_START.match(prefix) is None:
        raise ProtocolError(400, "not an HTTP request")


def _split_target(method: str, target: str) -> tuple[str, str, str | None]:
    """Return (path, query, host from an absolute-form target or None). Raises ProtocolError(400)."""
    host = None
    if method == "CONNECT":
        # RFC 9112 3.2.3: CONNECT takes the authority-form only; the handler decides whether CONNECT
        # is supported at all.
        if _AUTHORITY_FORM.fullmatch(target) is None or target[0] == ":":
            raise ProtocolError(400, "malformed authority-form target")
        return "", "", target
    if target[0] == "/":
        path, _, query = target.partition("?")
    elif target == "*":
        # RFC 9112 3.2.4: asterisk-form is only for a server-wide OPTIONS.
        if method != "OPTIONS":
            raise ProtocolError(400, "asterisk-form target outside OPTIONS")
        return "*", "", None
    else:
        match = _ABSOLUTE_FORM.fullmatch(target)
        if match is None or match.group(1).lower() not in ("http", "https"):
            raise ProtocolError(400, "malformed request target")
        # RFC 9112 3.2.2: a server MUST accept the absolute form; its authority replaces Host.
        authority, rest = match.group(2), match.group(3) or "/"
        if _HOST.fullmatch(authority) is None or authority[:1] in ("", ":"):
            # RFC 9110 4.2.1: an http(s) URI with an empty host MUST be rejected as invalid.
            raise ProtocolError(400, "malformed authority in the request target")
        if rest[0] != "/":
            rest = "/" + rest
        path, _, query = rest.partition("?")
        host = authority
    if "%" in path and _BAD_PERCENT.search(path) is not None:
        raise ProtocolError(400, "malformed percent-encoding in the path")
    return path, query, host


def _host(hosts: list[str], version: str, target_host: str | None) -> str:
    """The request's host, from the values of its Host fields, checked per RFC 9112 3.2. Raises
    ProtocolError(400)."""
    if len(hosts) > 1:
        raise ProtocolError(400, "more than one Host field")
    if hosts and _HOST.fullmatch(hosts[0]) is None:
        raise ProtocolError(400, "invalid Host field")
    if not hosts and version == "HTTP/1.1":
        # RFC 9112 3.2: a server MUST respond 400 to an HTTP/1.1 request that lacks Host.
        raise ProtocolError(400, "missing Host field")
    if target_host is not None:
        return target_host
    return hosts[0] if hosts else ""
