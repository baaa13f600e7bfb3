"""Readers for the two request-body framings: Content-Length and chunked (RFC 9112 6 and 7)."""

from __future__ import annotations

import re

from reactor.http.errors import ProtocolError
from reactor.http.events import Data, EndOfMessage
from reactor.http.fields import TOKEN_CHAR, parse_field_line
from reactor.http.receivebuffer import ReceiveBuffer

# RFC 9112 7.1: chunk-size [ chunk-ext ] CRLF, chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ).
_TOKEN = TOKEN_CHAR + rb"+"
_QUOTED_STRING = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_CHUNK_EXTENSION = rb"[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + rb"|" + _QUOTED_STRING + rb"))?"
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)(?:" + _CHUNK_EXTENSION + rb")*\r\n", re.ASCII)
MAX_CHUNK_LINE = 4096  # a size line with extensions; longer is an attack, not a request
_MAX_CHUNK_SIZE_DIGITS = 16  # 16 hex digits already exceed any body we accept


class ContentLengthReader:
    """A body of exactly ``length`` bytes."""

    __slots__ = ("remaining",)

    def __init__(self, length: int) -> None:
        self.remaining = length

    def read(self, buffer: ReceiveBuffer) -> Data | EndOfMessage | None:
        """Return the next event, or None when more bytes are needed."""
        if self.remaining == 0:
            return EndOfMessage()
        data = buffer.maybe_extract_at_most(self.remaining)
        if data is None:
            return None
        self.remaining -= len(data)
        return Data(data)


class ChunkedReader:
    """A chunked body: size lines, chunk data each followed by CRLF, a last chunk and trailer fields.

    Raises ProtocolError(400) for malformed framing and (413) once the decoded body exceeds ``max_body``.
    """

    __slots__ = ("_max_body", "_max_trailer", "_received", "_chunk_left", "_step", "_trailer_size")

    _SIZE, _DATA, _DATA_END, _TRAILER, _DONE = range(5)

    def __init__(self, max_body: int, max_trailer: int) -> None:
        self._max_body = max_body
        self._max_trailer = max_trailer
        self._received = 0
        self._chunk_left = 0
        self._step = self._SIZE
        self._trailer_size = 0

    def read(self, buffer: ReceiveBuffer) -> Data | EndOfMessage | None:
        """Return the next event, or None when more bytes are needed."""
        while True:
            step = self._step
            if step == self._DATA:
                data = buffer.maybe_extract_at_most(self._chunk_left)
                if data is None:
                    return None
                self._chunk_left -= len(data)
                if self._chunk_left == 0:
                    self._step = self._DATA_END
                return Data(data)
            if step == self._SIZE:
                line = self._maybe_line(buffer, MAX_CHUNK_LINE, "chunk size line too long")
                if line is None:
                    return None
                self._start_chunk(line)
            elif step == self._DATA_END:
                if len(buffer) < 2:
                    return None
                if buffer.maybe_extract_at_most(2) != b"\r\n":
                    raise ProtocolError(400, "chunk data not followed by CRLF")
                self._step = self._SIZE
            elif step == self._TRAILER:
                line = self._maybe_line(buffer, self._max_trailer - self._trailer_size, "trailer section too large")
                if line is None:
                    return None
                self._trailer_size += len(line)
                if line == b"\r\n":
                    self._step = self._DONE
                    return EndOfMessage()
                # Trailer fields are checked like header fields and then dropped: nothing here uses
                # them, and RFC 9110 6.5.1 forbids merging them into the header section blindly.
                parse_field_line(line[:-2])
            else:
                return EndOfMessage()

    @staticmethod
    def _maybe_line(buffer: ReceiveBuffer, limit: int, too_long: str) -> bytes | None:
        end = buffer.find_line_end()
        if end < 0:
            if len(buffer) >= limit:  # its LF still to come, the line can only end past the limit
                raise ProtocolError(400, too_long)
            return None
        if end + 1 > limit:
            raise ProtocolError(400, too_long)
        line = buffer.maybe_extract_line()
        assert line is not None
        if not line.endswith(b"\r\n") or b"\r" in line[:-2]:
            raise ProtocolError(400, "chunked framing line not ended by CRLF")
        return line

    def _start_chunk(self, line: bytes) -> None:
        match = _CHUNK_LINE.fullmatch(line)
        if match is None:
            raise ProtocolError(400, "invalid chunk size line")
        digits = match.group(1).lstrip(b"0")
        if len(digits) > _MAX_CHUNK_SIZE_DIGITS:
            raise ProtocolError(400, "chunk size overflow")
        size = int(digits or b"0", 16)
        self._received += size
        if self._received > self._max_body:
            raise ProtocolError(413, f"request body over the limit of {self._max_body} bytes")
        if size == 0:
            self._step = self._TRAILER
        else:
            self._chunk_left = size
            self._step = self._DATA


BodyReader = ContentLengthReader | ChunkedReader
