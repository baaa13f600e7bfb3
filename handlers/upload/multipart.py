"""An incremental ``multipart/form-data`` parser (RFC 7578 on RFC 2046 5.1): fed the body in pieces
as they arrive, it hands out each part's head and its content as it goes, never holding more than a
part's header section and a delimiter's length of content. Pure: no files, no sockets.

The standard library has no streaming parser (``email`` wants the whole message, ``cgi`` is gone
in 3.13), and an upload must not wait in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

# RFC 2046 5.1.1: a boundary is 1 to 70 characters of this set, not ending with a space.
_BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]", re.ASCII)
MAX_HEAD = 16 * 1024  # one part's header section: a name, a filename and a type fit in far less
# A parameter of Content-Type or Content-Disposition: name=token or name="quoted string".
_PARAMETER = re.compile(
    r';[ \t]*([^=; \t]+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^; \t]*))[ \t]*', re.ASCII | re.DOTALL
)
_LINEAR_WHITESPACE = b" \t"
# Only \" and \\ are unescaped: browsers send a Windows path's backslashes as they are (HTML's
# form-data encoding writes a quote as %22 and escapes nothing else).
_ESCAPE = re.compile(r'\\(["\\])')


class MultipartError(Exception):
    """The body is not a well-formed multipart body; ``reason`` says where it went wrong (a 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Part:
    """The head of one part: its fields (lower-cased names), and from Content-Disposition the form
    field's ``name`` and, for a file, its ``filename`` (None for a plain field)."""

    headers: dict[str, str]
    name: str
    filename: str | None


@dataclass(frozen=True)
class PartData:
    """A piece of the current part's content."""

    data: bytes


@dataclass(frozen=True)
class PartEnd:
    """The current part's content is complete."""


Event = Part | PartData | PartEnd


class _Step(Enum):
    PREAMBLE = "preamble"  # before the first delimiter
    DELIMITER_END = "after a delimiter"  # "--" closes the body, else padding and CRLF start a part
    HEAD = "part head"
    CONTENT = "part content"
    EPILOGUE = "epilogue"  # after the close delimiter: ignored


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a ``multipart/form-data`` Content-Type value, None when it is another type.
    Raises MultipartError for a form-data type without a valid boundary."""
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip(" \t").lower() != "multipart/form-data":
        return None
    found = parameters_of(";" + parameters).get("boundary")
    if found is None:
        raise MultipartError("multipart/form-data without a boundary")
    boundary = found.encode("latin-1", "replace")
    if _BOUNDARY.fullmatch(boundary) is None:
        raise MultipartError("invalid multipart boundary")
    return boundary


def parameters_of(text: str) -> dict[str, str]:
    """The ``; name=value`` parameters of a field value's tail, names lower-cased, the first of a
    repeated name kept; in quoted values ``\\"`` and ``\\\\`` unescaped (RFC 9110 5.6.4)."""
    parameters: dict[str, str] = {}
    for match in _PARAMETER.finditer(text):
        name = match.group(1).lower()
        quoted = match.group(2)
        value = _ESCAPE.sub(r"\1", quoted) if quoted is not None else match.group(3)
        parameters.setdefault(name, value)
    return parameters


class MultipartParser:
    """Feed ``receive_data`` the body in any pieces, then ``end``; each call returns the events its
    bytes completed."""

    def __init__(self, boundary: bytes) -> None:
        # Every delimiter but the first follows a CRLF that belongs to it (RFC 2046 5.1.1): with one
        # CRLF put in front of the body, the first is found the same way.
        self._delimiter = b"\r\n--" + boundary
        self._buffer = bytearray(b"\r\n")
        self._step = _Step.PREAMBLE

    @property
    def complete(self) -> bool:
        """The close delimiter has been seen: the body is whole."""
        return self._step is _Step.EPILOGUE

    def receive_data(self, data: bytes) -> list[Event]:
        """The events ``data`` completes. Raises MultipartError."""
        if self._step is _Step.EPILOGUE:
            return []  # RFC 2046 5.1.1: an epilogue is to be ignored
        self._buffer += data
        events: list[Event] = []
        while self._advance(events):
            pass
        return events

    def end(self) -> None:
        """The body has ended. Raises MultipartError when the close delimiter never came."""
        if self._step is not _Step.EPILOGUE:
            raise MultipartError(f"the body ended in the {self._step.value}")

    def _advance(self, events: list[Event]) -> bool:
        """Take one step with what is buffered; False when more bytes are needed."""
        buffer = self._buffer
        delimiter = self._delimiter
        step = self._step
        if step is _Step.CONTENT:
            found = buffer.find(delimiter)
            if found < 0:
                # Keep what could be the start of a delimiter split across pieces; pass on the rest.
                keep = len(delimiter) - 1
                if len(buffer) > keep:
                    events.append(PartData(bytes(buffer[:-keep])))
                    del buffer[:-keep]
                return False
            if found:
                events.append(PartData(bytes(buffer[:found])))
            events.append(PartEnd())
            del buffer[: found + len(delimiter)]
            self._step = _Step.DELIMITER_END
            return True
        if step is _Step.PREAMBLE:
            found = buffer.find(delimiter)
            if found < 0:
                del buffer[: max(0, len(buffer) - len(delimiter) + 1)]
                return False
            del buffer[: found + len(delimiter)]
            self._step = _Step.DELIMITER_END
            return True
        if step is _Step.DELIMITER_END:
            if len(buffer) < 2:
                return False
            if buffer[:2] == b"--":
                buffer.clear()
                self._step = _Step.EPILOGUE
                return False
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                if len(buffer) > 256:
                    raise MultipartError("no line end after a boundary")
                return False
            if buffer[:line_end].strip(_LINEAR_WHITESPACE):
                raise MultipartError("text after a boundary")  # only transport padding may follow it
            del buffer[: line_end + 2]
            self._step = _Step.HEAD
            return True
        # _Step.HEAD: the header section ends at an empty line (at once, for a part without fields).
        end = 0 if buffer[:2] == b"\r\n" else buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD:
                raise MultipartError("a part's header section is too large")
            return False
        if end > MAX_HEAD:
            raise MultipartError("a part's header section is too large")
        head = bytes(buffer[:end])
        del buffer[: end + (2 if end == 0 else 4)]
        events.append(_part(head))
        self._step = _Step.CONTENT
        return True


def _part(head: bytes) -> Part:
    """A part's head from its header section (without the final empty line). Raises MultipartError."""
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n") if head else []:
        field, colon, value = line.partition(b":")
        if not colon or not field or field != field.strip(_LINEAR_WHITESPACE):
            raise MultipartError("malformed header field in a part")
        # UTF-8 as browsers send names (RFC 7578 5.1.1); undecodable bytes kept as on a file system.
        headers.setdefault(
            field.decode("latin-1").lower(), value.strip(_LINEAR_WHITESPACE).decode("utf-8", "surrogateescape")
        )
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise MultipartError("a part without Content-Disposition")  # RFC 7578 4.2: every part has one
    kind, _, parameters = disposition.partition(";")
    if kind.strip(" \t").lower() != "form-data":
        raise MultipartError("a part whose Content-Disposition is not form-data")
    values = parameters_of(";" + parameters)
    name = values.get("name")
    if name is None:
        raise MultipartError("a part without a field name")
    return Part(headers, name, values.get("filename"))
