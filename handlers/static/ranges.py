"""Byte ranges (RFC 9110 14): which parts of a representation a Range header asks for, and the layout
of a multipart/byteranges body. Pure: no filesystem, no sockets.

Abuse is bounded the way Apache and nginx learned to after CVE-2011-3192: more than MAX_RANGES ranges
and the header is ignored (the whole representation is sent), and overlapping or adjacent ranges are
merged after one sort, so no request makes us send a byte twice or do more than O(n log n) work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Ranges honoured in one request; more and the Range header is ignored (RFC 9110 14.2 allows it).
# Apache's MaxRanges defaults to 200; browsers and download tools ask for one.
MAX_RANGES = 100

_INT_RANGE = re.compile(r"([0-9]+)-([0-9]*)", re.ASCII)
_SUFFIX_RANGE = re.compile(r"-([0-9]+)", re.ASCII)
# Positions past any file size saturate here, so a hundred-digit number costs no more than a short one.
_HUGE = 10**18


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` up to, not including, ``stop`` (``stop > start``)."""

    start: int
    stop: int

    @property
    def count(self) -> int:
        return self.stop - self.start

    def content_range(self, length: int) -> str:
        """The Content-Range value (RFC 9110 14.4), whose last position is inclusive."""
        return f"bytes {self.start}-{self.stop - 1}/{length}"


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else _HUGE


def parse_range(value: str) -> list[tuple[int | None, int | None]] | None:
    """The range-specs of a ``bytes`` Range header (RFC 9110 14.1.1) as (first, last) pairs: last is
    None for ``first-`` and first is None for a suffix ``-length``. None when the header is to be
    ignored: another unit, bad syntax, last before first, no spec or more than MAX_RANGES."""
    unit, equals, range_set = value.partition("=")
    if not equals or unit.strip(" \t").lower() != "bytes":
        return None
    specs: list[tuple[int | None, int | None]] = []
    for element in range_set.split(","):
        element = element.strip(" \t")
        if not element:
            continue  # RFC 9110 5.6.1: empty list elements are ignored
        if len(specs) == MAX_RANGES:
            return None
        if match := _INT_RANGE.fullmatch(element):
            first = _position(match.group(1))
            last = _position(match.group(2)) if match.group(2) else None
            if last is not None and last < first:
                return None  # RFC 9110 14.1.1: such a range-spec is invalid
            specs.append((first, last))
        elif match := _SUFFIX_RANGE.fullmatch(element):
            specs.append((None, _position(match.group(1))))
        else:
            return None
    return specs or None


def satisfiable(specs: list[tuple[int | None, int | None]], length: int) -> list[tuple[ByteRange, int]]:
    """Each satisfiable spec (RFC 9110 14.1.1) as a ByteRange within ``length`` with its position in the
    request: a first position before the end, or a suffix of at least one byte."""
    ranges = []
    for index, (first, last) in enumerate(specs):
        if first is None:
            assert last is not None
            if last > 0:
                ranges.append((ByteRange(max(0, length - last), length), index))
        elif first < length:
            stop = length if last is None else min(last + 1, length)
            ranges.append((ByteRange(first, stop), index))
    return ranges


def coalesce(ranges: list[tuple[ByteRange, int]]) -> list[ByteRange]:
    """Merge overlapping and adjacent ranges in O(n log n) (RFC 9110 14.2 allows it) and order the
    result as the request did: each merged range takes the place of its earliest spec (RFC 9110
    15.3.7.2: parts SHOULD follow the order of the request, less coalesced ones)."""
    merged: list[tuple[int, int, int]] = []  # start, stop, first index
    for byte_range, index in sorted(ranges, key=lambda item: (item[0].start, item[1])):
        if merged and byte_range.start <= merged[-1][1]:
            start, stop, first_index = merged[-1]
            merged[-1] = (start, max(stop, byte_range.stop), min(first_index, index))
        else:
            merged.append((byte_range.start, byte_range.stop, index))
    merged.sort(key=lambda item: item[2])
    return [ByteRange(start, stop) for start, stop, _index in merged]


def select_ranges(value: str, length: int) -> list[ByteRange] | None:
    """The ranges to send for the Range header ``value`` of a representation of ``length`` bytes.

    None: ignore the header and send the whole representation (an unknown unit, bad syntax, too many
    ranges, or an empty representation, for which no range can be expressed). An empty list: none is
    satisfiable, answer 416. Otherwise one or more disjoint, non-adjacent ranges.
    """
    specs = parse_range(value)
    if specs is None or length == 0:
        return None
    return coalesce(satisfiable(specs, length))


@dataclass(frozen=True)
class MultipartLayout:
    """A multipart/byteranges body (RFC 9110 14.6) as the bytes around each file part: each part's
    delimiter and header section, the part's range, and the closing delimiter. ``length`` is the
    exact body length, known before a byte is sent, so the response has a Content-Length."""

    content_type: str
    parts: list[tuple[bytes, ByteRange]]
    closing: bytes
    length: int


def multipart_layout(
    ranges: list[ByteRange], length: int, content_type: str, boundary: str, content_encoding: str = ""
) -> MultipartLayout:
    """Lay out ``ranges`` of a representation of ``length`` bytes typed ``content_type``. The
    ``boundary`` must not occur in the data: a random one of 80 bits or more does that in practice.
    A ``content_encoding`` is named in each part, not on the whole: the multipart body itself is not
    encoded, each part is a range of the encoded representation."""
    encoding = f"Content-Encoding: {content_encoding}\r\n" if content_encoding else ""
    parts = []
    total = 0
    for index, byte_range in enumerate(ranges):
        delimiter = "--" if index == 0 else "\r\n--"  # the CRLF before a delimiter belongs to it
        head = (
            f"{delimiter}{boundary}\r\nContent-Type: {content_type}\r\n{encoding}"
            f"Content-Range: {byte_range.content_range(length)}\r\n\r\n"
        ).encode("latin-1")
        parts.append((head, byte_range))
        total += len(head) + byte_range.count
    closing = f"\r\n--{boundary}--\r\n".encode("latin-1")
    return MultipartLayout(f"multipart/byteranges; boundary={boundary}", parts, closing, total + len(closing))
