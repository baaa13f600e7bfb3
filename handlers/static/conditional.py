"""Validators and conditional requests (RFC 9110 8.8 and 13): ETag, Last-Modified, the four
preconditions evaluated in the order RFC 9110 13.2.2 gives, and If-Range (13.1.5)."""

from __future__ import annotations

import calendar
import os
import re
import time
from email.utils import formatdate

from reactor.http.events import Headers

# RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
# Leading commas and whitespace are empty list elements, which RFC 9110 5.6.1 says to ignore.
_ENTITY_TAG = re.compile(r'[ \t,]*(W/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(?:,|$)', re.ASCII)

# RFC 9110 5.6.7: the three formats a recipient must accept, matched whole and case-sensitively.
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_MONTH_NUMBERS = {name: number for number, name in enumerate(_MONTHS.split("|"), 1)}
_IMF_FIXDATE = re.compile(
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{{2}}) ({_MONTHS}) ([0-9]{{4}})"
    r" ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT",
    re.ASCII,
)
_RFC850_DATE = re.compile(
    rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), ([0-9]{{2}})-({_MONTHS})-([0-9]{{2}})"
    r" ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT",
    re.ASCII,
)
_ASCTIME_DATE = re.compile(
    rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ({_MONTHS}) ([0-9 ][0-9]) ([0-9]{{2}}):([0-9]{{2}}):([0-9]{{2}}) ([0-9]{{4}})",
    re.ASCII,
)

_GET_OR_HEAD = ("GET", "HEAD")


def make_etag(info: os.stat_result, coding: str = "") -> str:
    """A strong validator from size and modification time in nanoseconds: it changes whenever the
    bytes can have changed (short of a write that keeps both, which no stat-based server can see).
    A content-coded representation (a precompressed sibling) names its coding, so its tag can never
    equal the identity representation's (RFC 9110 8.8.3: strong tags differ between encodings)."""
    suffix = f"-{coding}" if coding else ""
    return f'"{info.st_mtime_ns:x}-{info.st_size:x}{suffix}"'


def http_date(timestamp: float) -> str:
    """IMF-fixdate (RFC 9110 5.6.7), e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    return formatdate(timestamp, usegmt=True)


def parse_http_date(value: str, now: float | None = None) -> int | None:
    """Seconds since the epoch for a value in one of the three formats of RFC 9110 5.6.7, or None
    for anything else (such a header field is then ignored: a list of dates, trailing text, an
    impossible day or hour). ``now`` (default: the wall clock) places two-digit rfc850 years."""
    value = value.strip(" \t")
    if match := _IMF_FIXDATE.fullmatch(value):
        day, month, year, hour, minute, second = match.groups()
    elif match := _ASCTIME_DATE.fullmatch(value):
        month, day, hour, minute, second, year = match.groups()
    elif match := _RFC850_DATE.fullmatch(value):
        day, month, short_year, hour, minute, second = match.groups()
        # RFC 9110 5.6.7: a two-digit year more than 50 years ahead is the most recent such past year.
        this_year = time.gmtime(time.time() if now is None else now).tm_year
        full_year = this_year - this_year % 100 + int(short_year)
        if full_year > this_year + 50:
            full_year -= 100
        year = str(full_year)
    else:
        return None
    fields = (int(year), _MONTH_NUMBERS[month], int(day.strip()), int(hour), int(minute), int(second))
    if fields[0] < 1:  # year 0000 is no date (and the calendar module raises on it)
        return None
    if not (1 <= fields[2] <= calendar.monthrange(fields[0], fields[1])[1] and fields[3] < 24 and fields[4] < 60):
        return None
    if fields[5] > 60:  # 60 is a leap second (RFC 9110 5.6.7 allows it)
        return None
    return calendar.timegm(fields)


def parse_etags(value: str) -> list[tuple[bool, str]] | None:
    """The (weak, opaque-tag) pairs of an If-Match / If-None-Match list, or None if malformed.
    ``*`` is returned as [(False, "*")]."""
    if value.strip(" \t") == "*":
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


def _list_field(headers: Headers, name: str) -> str | None:
    """A list field sent on several lines is one list (RFC 9110 5.3)."""
    values = headers.get_all(name)
    return ", ".join(values) if values else None


def _date_field(headers: Headers, name: str) -> int | None:
    """A date field, or None when absent, invalid or sent more than once (RFC 9110 13.1.3, 13.1.4:
    a value with more than one member is ignored)."""
    values = headers.get_all(name)
    return parse_http_date(values[0]) if len(values) == 1 else None


def evaluate(headers: Headers, method: str, etag: str, modified: int) -> int | None:
    """Return 412 or 304 when a precondition decides the response, else None.

    ``modified`` is the Last-Modified time in whole seconds (what the client saw in the header).
    Dates that are invalid are ignored, as RFC 9110 13.1.3 and 13.1.4 require; a malformed If-Match
    matches nothing, a malformed If-None-Match is ignored.
    """
    # Step 1: If-Match.
    if_match = _list_field(headers, "if-match")
    if if_match is not None:
        tags = parse_etags(if_match)
        if tags is None or not _strong_match(etag, tags):
            return 412
    else:
        # Step 2: If-Unmodified-Since, only without If-Match.
        date = _date_field(headers, "if-unmodified-since")
        if date is not None and modified > date:
            return 412
    # Step 3: If-None-Match.
    if_none_match = _list_field(headers, "if-none-match")
    if if_none_match is not None:
        tags = parse_etags(if_none_match)
        if tags is not None and _weak_match(etag, tags):
            return 304 if method in _GET_OR_HEAD else 412
        return None
    # Step 4: If-Modified-Since, only for GET and HEAD and only without If-None-Match.
    if method in _GET_OR_HEAD:
        date = _date_field(headers, "if-modified-since")
        if date is not None and modified <= date:
            return 304
    return None


def if_range_holds(value: str, etag: str, modified: int) -> bool:
    """RFC 9110 13.1.5: whether a Range may be honoured under this If-Range value. An entity tag (its
    first three characters hold a DQUOTE) must match by strong comparison, so a weak tag never does;
    a date must equal the Last-Modified second exactly. Anything else is false: send the whole."""
    value = value.strip(" \t")
    if '"' in value[:3]:
        return value == etag
    date = parse_http_date(value)
    return date is not None and date == modified
