"""Turning a request path into a safe location under the served root. Pure: no filesystem access.

The path is split on "/" before percent-decoding, so an encoded slash (%2F) can never become a
separator; dot segments are resolved (RFC 3986 5.2.4) and one that climbs above the root is refused.
The filesystem side (symlinks) is checked by the static handler after this; ``Located`` and
``Resolve`` are what that check gives the modules that answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import quote, unquote_to_bytes

_PCHAR_SAFE = "!$&'()*+,;=:@"


class PathError(Exception):
    """The path cannot name a file under the root; ``status`` is the answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RequestPath:
    """Decoded path segments under the root (no empty, ".", ".." segments) and whether the request
    named a directory (a trailing slash)."""

    __slots__ = ("segments", "trailing_slash")

    def __init__(self, segments: tuple[str, ...], trailing_slash: bool) -> None:
        self.segments = segments
        self.trailing_slash = trailing_slash

    def url(self, trailing_slash: bool | None = None) -> str:
        """The canonical, percent-encoded URL path: always exactly one leading "/". Only what a path
        segment may not hold is encoded (RFC 3986 3.3: pchar keeps sub-delims, ":" and "@"), as
        browsers send it, so a link followed comes back as written."""
        slash = self.trailing_slash if trailing_slash is None else trailing_slash
        path = "/" + "/".join(quote_segment(segment) for segment in self.segments)
        return path + "/" if slash and self.segments else path

    def __repr__(self) -> str:
        return f"RequestPath({self.segments!r}, trailing_slash={self.trailing_slash})"


class Located(NamedTuple):
    """What a request path names under the root, as the static handler found it."""

    path: RequestPath
    requested: str  # its location under the root
    real: str  # the same with symlinks resolved
    info: os.stat_result  # of ``real``


# A path under the root as it is to be opened: with symlinks resolved, raising PathError(403) when
# that leaves the root; or as it is when symlinks may lead anywhere.
Resolve = Callable[[str], str]


def quote_segment(segment: str) -> str:
    """``segment`` percent-encoded as RFC 3986 3.3 requires of a path segment, and no more."""
    return quote(segment, safe=_PCHAR_SAFE, errors="surrogateescape")


def parse_request_path(raw: str) -> RequestPath:
    """Decode an origin-form path (still percent-encoded, no query). Raises PathError:
    400 for a NUL byte or a path that does not start with "/", 403 for ".." above the root, 404 for a
    segment that holds an encoded slash or a backslash (no file under the root can be named so)."""
    if not raw.startswith("/"):
        raise PathError(400, "the path must start with /")
    segments: list[str] = []
    raw_segments = raw.split("/")[1:]
    trailing_slash = False
    for index, raw_segment in enumerate(raw_segments):
        last = index == len(raw_segments) - 1
        # Names on disk are bytes; surrogateescape maps the non-UTF-8 ones as os.fsdecode does.
        segment = unquote_to_bytes(raw_segment).decode("utf-8", "surrogateescape")
        if "\0" in segment:
            raise PathError(400, "NUL in the path")
        if "/" in segment or "\\" in segment:
            raise PathError(404, "encoded slash or backslash in the path")
        if segment in ("", "."):
            trailing_slash = last
            continue
        if segment == "..":
            if not segments:
                raise PathError(403, "the path climbs above the root")
            segments.pop()
            trailing_slash = last
            continue
        segments.append(segment)
        trailing_slash = False
    return RequestPath(tuple(segments), trailing_slash or not segments)
