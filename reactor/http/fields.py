"""Field syntax shared by the head and the chunked trailer section (RFC 9110 5, RFC 9112 5).

Every pattern is compiled with re.ASCII and spells its character classes out: Python's \\d and \\s match
Unicode digits and spaces, which other Python servers have let through as framing (aiohttp
CVE-2023-47627, waitress CVE-2022-24761).
"""

from __future__ import annotations

import re
from typing import TypeVar

from reactor.http.errors import ProtocolError

Parsed = TypeVar("Parsed")

# RFC 9110 5.6.2: tchar, the characters of a token (a method, a field name, a coding).
TOKEN_CHAR = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
TOKEN = re.compile(TOKEN_CHAR + rb"+", re.ASCII)
# RFC 9110 5.5: a field value is visible ASCII, obs-text and interior SP / HTAB; CR, LF, NUL and the
# other controls are never allowed (RFC 9110 5.5: a recipient MUST reject or replace them).
_FORBIDDEN_IN_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]", re.ASCII)
_OWS = b" \t"
# The whole of a valid field line at once: name, colon, then a value holding no control but HTAB,
# whose surrounding OWS is stripped afterwards. One C-level match for the common case; a line that does
# not match goes through the step-by-step checks, which say what is wrong with it. The value is a single
# run of one class up to the end: patterns where OWS and the value can both match the same spaces
# backtrack quadratically on a line of spaces ending in a control byte, and one such 32 KiB head would
# stall the whole loop for seconds.
_FIELD_LINE = re.compile(rb"(" + TOKEN_CHAR + rb"+):([^\x00-\x08\x0a-\x1f\x7f]*)", re.ASCII)


def parse_field_line(line: bytes) -> tuple[str, str]:
    """Split one ``name: value`` line (terminator already removed) into a lower-case name and a value.

    Raises ProtocolError(400) for obsolete folding, whitespace before the colon, a bad name or a
    control character in the value.
    """
    match = _FIELD_LINE.fullmatch(line)
    if match is not None:
        name, value = match.groups()
        return name.decode("ascii").lower(), value.strip(_OWS).decode("latin-1")
    if line[:1] in (b" ", b"\t"):
        # RFC 9112 5.2: obs-fold; a server MUST reject it (or unfold it), we reject.
        raise ProtocolError(400, "obsolete line folding")
    name, colon, value = line.partition(b":")
    if not colon:
        raise ProtocolError(400, "header line without a colon")
    if TOKEN.fullmatch(name) is None:
        # RFC 9112 5.1: no whitespace is allowed between the field name and the colon.
        raise ProtocolError(400, "invalid header name")
    value = value.strip(_OWS)
    if _FORBIDDEN_IN_VALUE.search(value) is not None:
        raise ProtocolError(400, "control character in a header value")
    return name.decode("ascii").lower(), value.decode("latin-1")


class LineCache(dict[bytes, Parsed]):
    """Lines already parsed, with what each gave, shared by the connections of one server. Clients
    repeat most of their lines on every request, and a line's parse depends on its bytes alone, so a
    line seen before costs one dict lookup. Only valid lines are kept (``remember`` is told of those),
    at most ``MAX_LINES`` of at most ``MAX_LINE`` bytes: past that it starts again empty, so a client
    sending ever new lines costs a bounded memory and nothing else."""

    MAX_LINES = 1024
    MAX_LINE = 1024

    def remember(self, line: bytes, parsed: Parsed) -> None:
        if len(line) <= self.MAX_LINE:
            if len(self) >= self.MAX_LINES:
                self.clear()
            self[line] = parsed


class FieldLineCache(LineCache[tuple[str, str]]):
    """Field lines (Host, User-Agent, Accept...) and the (name, value) each gave; and the Host values
    found valid (RFC 9110 7.2), which a head then need not match against the Host pattern again."""

    def __init__(self) -> None:
        super().__init__()
        self.hosts: set[str] = set()

    def remember_host(self, host: str) -> None:
        """``host`` passed the Host check (at most MAX_LINES of at most MAX_LINE characters kept)."""
        if len(host) <= self.MAX_LINE:
            if len(self.hosts) >= self.MAX_LINES:
                self.hosts.clear()
            self.hosts.add(host)

    def parse(self, line: bytes) -> tuple[str, str]:
        """``parse_field_line(line)``, kept for the next time. Raises ProtocolError as it does."""
        field = parse_field_line(line)
        self.remember(line, field)
        return field


def split_list(values: list[str]) -> list[str]:
    """Elements of a comma-separated list field spread over several lines, lower-cased, empty elements
    dropped (RFC 9110 5.6.1: a recipient MUST accept and ignore empty list elements)."""
    return [item.strip(" \t").lower() for value in values for item in value.split(",") if item.strip(" \t")]
