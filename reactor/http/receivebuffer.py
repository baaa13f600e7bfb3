"""Bytes received but not yet parsed, with the searches the parser needs done in linear time."""

from __future__ import annotations

import re

# RFC 9112 2.1, 2.2: every line of a head ends in CRLF, and the head at the first empty line. A bare LF
# is refused (the parser checks), not read as an end of line: see docs/limits.md, "Strictness".
HEAD_END = b"\r\n\r\n"


class ReceiveBuffer(bytearray):
    """A bytearray that remembers how far it has already been searched, so a client that sends one byte
    at a time costs O(n) in total rather than O(n^2). Removing from the front of a bytearray is
    amortised O(1) in CPython, so extraction is cheap too. It is a bytearray, not a wrapper around
    one, so that len() and truth, asked several times per request, stay in C."""

    __slots__ = ("_head_searched", "_line_searched")

    def __init__(self) -> None:
        super().__init__()
        self._head_searched = 0
        self._line_searched = 0

    def clear(self) -> None:
        del self[:]
        self._head_searched = self._line_searched = 0

    def _take(self, count: int) -> bytes:
        if count == len(self):  # the usual case, one request in the buffer: one copy, not a slice and a copy
            out = bytes(self)
            del self[:]
        else:
            out = bytes(self[:count])
            del self[:count]
        self._head_searched = self._line_searched = 0
        return out

    def skip_leading_empty_lines(self) -> None:
        """Drop empty lines (CRLF) before a request line (RFC 9112 2.2: a server SHOULD ignore at least
        one). A lone CR is left for the parser: its LF may be next; a bare LF is no empty line."""
        start = 0
        while self.startswith(b"\r\n", start):
            start += 2
        if start:
            del self[:start]
            self._head_searched = self._line_searched = 0

    def maybe_extract_head(self) -> bytes | None:
        """Return the head up to and including its terminating empty line, or None if incomplete."""
        end = self.find(HEAD_END, self._head_searched)
        if end < 0:
            # The terminator may straddle the next append: resume three bytes back.
            self._head_searched = max(0, len(self) - 3)
            return None
        end += 4
        if end == len(self):  # the usual case, one request in the buffer: one copy, not a slice and a copy
            head = bytes(self)
            del self[:]
        else:
            head = bytes(self[:end])
            del self[:end]
        self._head_searched = self._line_searched = 0
        return head

    def find_line_end(self) -> int:
        """Offset of the first LF, or -1; repeated calls do not rescan what was already searched."""
        index = self.find(b"\n", self._line_searched)
        if index < 0:
            self._line_searched = len(self)
        return index

    def maybe_extract_line(self) -> bytes | None:
        """Return the first line including its LF, or None if no LF has arrived yet."""
        index = self.find_line_end()
        if index < 0:
            return None
        return self._take(index + 1)

    def maybe_extract_at_most(self, count: int) -> bytes | None:
        """Return up to ``count`` bytes, or None if the buffer is empty."""
        if not self:
            return None
        return self._take(count)

    def peek(self, count: int) -> bytes:
        """The first ``count`` bytes, left in place."""
        return bytes(self[:count])

    def search(self, pattern: re.Pattern[bytes], start: int, end: int) -> bool:
        """True when ``pattern`` matches somewhere in the bytes from ``start`` to ``end``."""
        return pattern.search(self, start, end) is not None
