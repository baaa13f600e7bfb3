"""Checking what a WSGI application passes to ``start_response`` (PEP 3333). Pure: no I/O."""

from __future__ import annotations

import re
from typing import Any
from wsgiref.util import is_hop_by_hop

from reactor.http.fields import TOKEN_CHAR
from reactor.http.writer import SERVER_OWNED_FIELDS

_STATUS = re.compile(r"([1-9][0-9][0-9]) [^\x00-\x08\x0a-\x1f\x7f]*", re.ASCII)
_TOKEN = re.compile(TOKEN_CHAR.decode("ascii") + "+", re.ASCII)  # the parser's, for str names
# RFC 9110 5.5: visible characters, obs-text (latin-1 above 0x7f) and interior spaces and tabs.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)


class ResponseHead:
    """A checked status and header list, with Content-Length taken out (the writer frames bodies)."""

    __slots__ = ("status", "headers", "content_length")

    def __init__(self, status: int, headers: list[tuple[str, str]], content_length: int | None) -> None:
        self.status = status
        self.headers = headers
        self.content_length = content_length


def check_response(status: Any, headers: Any) -> ResponseHead:
    """Check ``start_response``'s arguments and return them parsed.

    Raises TypeError for values of the wrong type and ValueError for a malformed status, header
    name or value, an interim (1xx) status, a hop-by-hop header (PEP 3333: the server owns the
    connection; wsgiref refuses them the same way) or an invalid or conflicting Content-Length.
    """
    if not isinstance(status, str):
        raise TypeError(f"the status must be a str such as '200 OK', not {type(status).__name__}")
    match = _STATUS.fullmatch(status)
    if match is None:
        raise ValueError(f"invalid status {status!r}: want three digits, a space and a reason phrase")
    code = int(match[1])
    if code < 200:
        raise ValueError(f"status {code}: an interim response cannot be the answer of a WSGI application")
    if not isinstance(headers, list):
        raise TypeError(f"the headers must be a list of (name, value) tuples, not {type(headers).__name__}")
    kept: list[tuple[str, str]] = []
    content_length: int | None = None
    for item in headers:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], str)):
            raise TypeError(f"header {item!r} is not a (str, str) tuple")
        name, value = item
        if _TOKEN.fullmatch(name) is None:
            raise ValueError(f"invalid header name {name!r}")
        if _FIELD_VALUE.fullmatch(value) is None:
            raise ValueError(f"invalid value for header {name!r}: control or non-latin-1 character")
        lower = name.lower()
        if is_hop_by_hop(lower):
            raise ValueError(f"hop-by-hop header {name!r} is not allowed from a WSGI application (PEP 3333)")
        if lower == "content-length":
            digits = value.strip(" \t")
            if _DIGITS.fullmatch(digits) is None:
                raise ValueError(f"invalid Content-Length {value!r}")
            if content_length is not None and content_length != int(digits):
                raise ValueError("conflicting Content-Length headers")
            content_length = int(digits)
        elif lower not in SERVER_OWNED_FIELDS:
            kept.append((name, value))
    return ResponseHead(code, kept, content_length)
