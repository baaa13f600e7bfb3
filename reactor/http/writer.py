"""The sans-IO response side: framing decisions and the bytes of heads, chunks and error pages."""

from __future__ import annotations

import html
from collections.abc import Iterable
from http import HTTPStatus

from reactor.http.errors import StateError

SERVER = b"reactor"

REASONS = {status.value: status.phrase for status in HTTPStatus}

_STATUS_LINES = {code: f"HTTP/1.1 {code} {phrase}\r\n".encode("latin-1") for code, phrase in REASONS.items()}
HTTP_VERSIONS = ("HTTP/1.1", "HTTP/1.0")  # what a server may answer as (``-p/--protocol``)
_LAST_CHUNK = b"0\r\n\r\n"
_SERVER_DATE = b"Server: " + SERVER + b"\r\nDate: "
# Lower-case names of the fields every head gets from this writer: handlers drop their own copies,
# which would be duplicates (RFC 9110 6.6.1: one Date; Server is not a list field either).
SERVER_OWNED_FIELDS = frozenset({"date", "server"})


class FieldBlock(bytes):
    """Header fields already encoded and checked by ``encode_fields``; a writer copies them as they are.
    A handler that sends the same fields on every response (a cached file) encodes them once."""


def encode_fields(fields: Iterable[tuple[str, str]]) -> FieldBlock:
    """``Name: value\r\n`` lines for ``fields``. Raises ValueError for a name or value holding CR, LF or
    NUL, or a name holding a colon: the response-splitting class."""
    parts = []
    for name, value in fields:
        if "\r" in value or "\n" in value or "\0" in value or ":" in name or "\n" in name or "\r" in name:
            raise ValueError(f"invalid header {name!r}")
        parts.append(f"{name}: {value}\r\n")
    return FieldBlock("".join(parts).encode("latin-1"))


def status_line(status: int) -> bytes:
    """``HTTP/1.1 <status> <reason>\\r\\n``; we answer every 1.x request as HTTP/1.1 (RFC 9110 6.2),
    unless the server was told to speak HTTP/1.0 (see ResponseWriter)."""
    line = _STATUS_LINES.get(status)
    if line is None:
        if not 100 <= status <= 999:
            raise ValueError(f"invalid status code {status}")
        line = f"HTTP/1.1 {status} \r\n".encode("latin-1")
    return line


def interim_continue() -> bytes:
    """The interim response that invites the client to send its body (RFC 9110 15.2.1)."""
    return b"HTTP/1.1 100 Continue\r\n\r\n"


def body_forbidden(method: str, status: int) -> bool:
    """True when the response carries no body: HEAD, 1xx, 204 and 304 (RFC 9110 6.4.1)."""
    return method == "HEAD" or status < 200 or status in (204, 304)


class ResponseWriter:
    """Frames one response to one request.

    ``head`` frames the body: Content-Length when the length is known, chunked when it is not and the
    client speaks HTTP/1.1; an HTTP/1.0 client's body of unknown length ends when the connection
    closes (``close_delimited``), which the caller's keep-alive decision must account for. ``body``
    and ``end`` return the bytes to send (nothing for HEAD, 204, 304). Handlers never pass
    Content-Length, Transfer-Encoding, Connection, Date or Server: those belong to this writer.

    ``protocol`` is the version the server speaks: as HTTP/1.0 (http.server's default) every response
    says HTTP/1.0 and is framed for an HTTP/1.0 client, whatever the request's version.
    """

    __slots__ = ("_method", "_http10", "_speaks_http10", "send_body", "chunked", "remaining", "body_bytes")

    def __init__(self, method: str, version: str, protocol: str = "HTTP/1.1") -> None:
        self._method = method
        self._speaks_http10 = protocol == "HTTP/1.0"
        self._http10 = version == "HTTP/1.0" or self._speaks_http10
        self.send_body = True
        self.chunked = False
        self.remaining: int | None = None  # bytes of body still owed, when the length was declared
        self.body_bytes = 0  # bytes of body payload written, for the access log

    def close_delimited(self, status: int, content_length: int | None) -> bool:
        """True when only the connection's close can end this body: an HTTP/1.0 client knows no
        chunked coding (RFC 9112 6.3, 7)."""
        return self._http10 and content_length is None and not body_forbidden(self._method, status)

    def head(
        self,
        status: int,
        headers: Iterable[tuple[str, str]] | FieldBlock,
        content_length: int | None,
        date: bytes,
        keep_alive: bool,
    ) -> bytes:
        """Return the encoded status line and header section; ``keep_alive`` says whether the
        connection persists after this response. Raises ValueError for a header that contains CR, LF
        or NUL (response splitting)."""
        block = headers if isinstance(headers, FieldBlock) else encode_fields(headers)
        line = status_line(status)
        if self._speaks_http10:
            line = b"HTTP/1.0" + line[8:]
        parts = [line, _SERVER_DATE, date, b"\r\n", block]
        if body_forbidden(self._method, status):
            self.send_body = False
        if status < 200 or status == 204:
            pass  # RFC 9110 8.6: no Content-Length in 1xx or 204
        elif content_length is not None:
            if status != 304:
                parts.append(b"Content-Length: %d\r\n" % content_length)
            self.remaining = content_length
        elif self.send_body and not self._http10:
            self.chunked = True
            parts.append(b"Transfer-Encoding: chunked\r\n")
        if not keep_alive:
            parts.append(b"Connection: close\r\n")
        elif self._http10:
            parts.append(b"Connection: keep-alive\r\n")
        parts.append(b"\r\n")
        return b"".join(parts)

    def body(self, data: bytes) -> bytes:
        """Return the bytes that carry ``data``. Raises StateError past a declared Content-Length."""
        if self.remaining is not None:
            if len(data) > self.remaining:
                raise StateError("response body longer than its Content-Length")
            self.remaining -= len(data)
        self.body_bytes += len(data)
        if not self.send_body or not data:
            return b""
        if self.chunked:
            return b"%x\r\n%s\r\n" % (len(data), data)
        return data

    def file_part(self, count: int) -> tuple[bytes, bytes]:
        """Account for ``count`` bytes sent from a file; return the framing to put before and after."""
        if self.remaining is not None:
            if count > self.remaining:
                raise StateError("response body longer than its Content-Length")
            self.remaining -= count
        self.body_bytes += count
        if self.chunked and count and self.send_body:
            return b"%x\r\n" % count, b"\r\n"
        return b"", b""

    def end(self) -> bytes:
        """Return the bytes that end the body. Raises StateError if a declared length was not met by
        a body that is sent (HEAD and 304 declare the length of a body they never carry)."""
        if self.remaining and self.send_body:
            raise StateError(f"response ended {self.remaining} bytes short of its Content-Length")
        if self.chunked and self.send_body:
            return _LAST_CHUNK
        return b""


class PreparedResponse:
    """A whole response with a bytes body, made once and sent many times: a cached file's 200 or 304,
    a built-in error page. Its head depends on the request only through the method (HEAD or not) and
    the version, on the server through the version it speaks, on the cycle through whether the
    connection persists, and on the clock through Date. So ``framed`` has a ResponseWriter frame it
    once per such form and second, and hands out the same head (and writer) until the second changes:
    the bytes are the writer's own, only not made again. Used on the loop thread only."""

    __slots__ = ("status", "fields", "body", "_date", "_forms")

    def __init__(self, status: int, fields: Iterable[tuple[str, str]] | FieldBlock, body: bytes = b"") -> None:
        status_line(status)  # ValueError now, for a status that cannot be sent, not on every request
        self.status = status
        self.fields = fields if isinstance(fields, FieldBlock) else encode_fields(fields)
        self.body = body
        self._date = b""
        # (HEAD, request version, server version, persists) -> the head, and the writer that framed it.
        self._forms: dict[tuple[bool, str, str, bool], tuple[bytes, ResponseWriter]] = {}

    def framed(
        self, method: str, version: str, protocol: str, date: bytes, keep_alive: bool
    ) -> tuple[bytes, ResponseWriter]:
        """The head of this response to a ``method`` request of ``version`` from a server speaking
        ``protocol``, and the writer that framed it with the whole body: complete, it takes no more
        bytes (its ``remaining`` is 0), so the connections that send this form share it."""
        if date != self._date:
            self._date = date
            self._forms.clear()
        key = (method == "HEAD", version, protocol, keep_alive)
        form = self._forms.get(key)
        if form is None:
            writer = ResponseWriter(method, version, protocol)
            head = writer.head(self.status, self.fields, len(self.body), date, keep_alive)
            writer.body(self.body)
            form = self._forms[key] = (head, writer)
        return form


def error_page(status: int, detail: str = "") -> bytes:
    """A short HTML page for an error status."""
    reason = REASONS.get(status, "Error")
    text = html.escape(detail or reason)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{status} {reason}</title></head>\n'
        f"<body><h1>{status} {reason}</h1><p>{text}</p></body></html>\n"
    ).encode()
