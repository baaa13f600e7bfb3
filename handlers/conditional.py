"""Validators and conditional requests (RFC 9110 8.8 and 13): ETag, Last-Modified and the four
preconditions, evaluated in the order RFC 9110 13.2.2 gives."""

from __future__ import annotations

import calendar
import os
import re
from email.utils import formatdate, parsedate_tz

from reactor.http.events import Headers

# RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
_ENTITY_TAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)', re.ASCII)


def make_etag(info: os.stat_result) -> str:
    """A strong validator from size and modification time in nanoseconds: it changes whenever the
    bytes can have changed (short of a write that keeps both, which no stat-based server can see)."""
    return f'"{info.st_mtime_ns:x}-{info.st_size:x}"'


def http_date(timestamp: float) -> str:
    """IMF-fixdate (RFC 9110 5.6.7), e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    return formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> int | None:
    """Seconds since the epoch for any of the three formats RFC 9110 5.6.7 makes us accept, or None
    for a value that is not a date (such a header field is then ignored)."""
    parsed = parsedate_tz(value)
    if parsed is None:
        return None
    try:
        return calendar.timegm(parsed[:6]) - (parsed[9] or 0)
    except (ValueError, OverflowError):
        return None


def parse_etags(value: str) -> list[tuple[bool, str]] | None:
    """The (weak, opaque-tag) pairs of an If-Match / If-None-Match list, or None if malformed.
    ``*`` is returned as [(False, "*")]."""
    if value.strip() == "*":
        return [(False, "*")]
    tags = []
    position = 0
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        if match is None:
            if value[position:].strip(" \t,") == "":
                break
            return None
        tags.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return tags


def _strong_match(etag: str, tags: list[tuple[bool, str]]) -> bool:
    """RFC 9110 8.8.3.2 strong comparison: both strong and equal."""
    return any(tag == "*" or (not weak and tag == etag) for weak, tag in tags)


def _weak_match(etag: str, tags: list[tuple[bool, str]]) -> bool:
    """RFC 9110 8.8.3.2 weak comparison: equal opaque tags, weakness ignored."""
    return any(tag in ("*", etag) for _weak, tag in tags)


def evaluate(headers: Headers, method: str, etag: str, modified: int) -> int | None:
    """Return 412 or 304 when a precondition decides the response, else None.

    ``modified`` is the Last-Modified time in whole seconds (what the client saw in the header).
    """
    # Step 1: If-Match (a malformed list matches nothing).
    if_match = headers.get("if-match")
    if if_match is not None:
        tags = parse_etags(if_match)
        if tags is None or not _strong_match(etag, tags):
            return 412
    else:
        # Step 2: If-Unmodified-Since, only without If-Match; an invalid date is ignored.
        since = headers.get("if-unmodified-since")
        if since is not None:
            date = parse_http_date(since)
            if date is not None and modified > date:
                return 412
    # Step 3: If-None-Match.
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = parse_etags(if_none_match)
        if tags is not None and _weak_match(etag, tags):
            return 304 if method in ("GET", "HEAD") else 412
        return None
    # Step 4: If-Modified-Since, only for GET and HEAD and only without If-None-Match.
    if method in ("GET", "HEAD"):
        since = headers.get("if-modified-since")
        if since is not None:
            date = parse_http_date(since)
            if date is not None and modified <= date:
                return 304
    return None
