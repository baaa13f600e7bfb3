"""One file as an answer's body: opening it without blocking the loop, which status RFC 9110 13.2.2
leads to, and sending the whole file, one range, or several as multipart/byteranges. Every body
leaves through ``Exchange.write_file`` (os.sendfile): not even a multipart body is assembled in memory;
only a body already in memory (gzip-coded on the fly) is sent as bytes."""

from __future__ import annotations

import os
import secrets
import stat
from typing import BinaryIO

from handlers.static.conditional import evaluate, if_range_holds
from handlers.static.ranges import ByteRange, multipart_layout, select_ranges
from reactor.exchange import Exchange, HeaderList
from reactor.http.events import Request

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC


def open_regular(path: str, *, follow: bool = True) -> tuple[BinaryIO, os.stat_result] | None:
    """The file at ``path`` opened for sendfile, with its stat; None when it is not a regular file.
    Raises OSError (ELOOP for a symlink when ``follow`` is false)."""
    # O_NONBLOCK: if the name was swapped for a FIFO after a stat, open must not block the loop.
    fd = os.open(path, _OPEN_FLAGS if follow else _OPEN_FLAGS | os.O_NOFOLLOW)
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb", buffering=0), info


def decide(request: Request, etag: str, modified: int, length: int) -> tuple[int, list[ByteRange]]:
    """The status for a GET or HEAD of a representation with these validators and ``length``, and
    for 206 the ranges to send: preconditions first (412, 304), then If-Range, then Range (13.2.2
    step 5), which leads to 200 when ignored, 416 when nothing in it can be satisfied, else 206."""
    status = evaluate(request.headers, request.method, etag, modified)
    if status is not None:
        return status, []
    if request.method != "GET":
        return 200, []  # RFC 9110 14.2: GET is the only method for which Range is defined
    ranges = request.headers.get_all("range")
    if len(ranges) != 1:
        return 200, []  # none, or several lines of a field that is no list: ignore
    if_range = request.headers.get_all("if-range")
    if if_range and (len(if_range) > 1 or not if_range_holds(if_range[0], etag, modified)):
        return 200, []  # RFC 9110 13.1.5: the client's copy is stale, send the whole thing
    selected = select_ranges(ranges[0], length)
    if selected is None:
        return 200, []
    return (206, selected) if selected else (416, [])


def send(
    exchange: Exchange,
    body: BinaryIO | bytes,
    length: int,
    ranges: list[ByteRange],
    content_type: str,
    content_encoding: str,
    headers: HeaderList,
) -> None:
    """Send ``body`` (``length`` bytes: a file, closed once sent, or bytes already made, such as a
    gzip-coded file) whole with 200 when ``ranges`` is empty, else as 206 with those ranges.
    ``headers`` are the validators and the rest of the response's fields, Content-Type and
    Content-Encoding excepted. Ranges of a coded body are ranges of the coded bytes (RFC 9110 14.1.1)."""
    encoding = [("Content-Encoding", content_encoding)] if content_encoding else []
    if not ranges:
        _respond_part(exchange, 200, [("Content-Type", content_type), *encoding, *headers], body, 0, length)
        return
    if len(ranges) == 1:
        only = ranges[0]
        fields = [("Content-Type", content_type), *encoding, ("Content-Range", only.content_range(length)), *headers]
        _respond_part(exchange, 206, fields, body, only.start, only.count)
        return
    # 96 random bits: a boundary no file will contain by chance (RFC 9110 14.6, RFC 2046 5.1.1).
    layout = multipart_layout(ranges, length, content_type, secrets.token_hex(12), content_encoding)
    exchange.start_response(206, [("Content-Type", layout.content_type), *headers], layout.length)
    last = len(layout.parts) - 1
    for index, (head, part) in enumerate(layout.parts):
        exchange.write(head)
        if isinstance(body, bytes):
            exchange.write(body[part.start : part.stop])
        else:
            # The file is closed with the last part, or by the connection if it ends first.
            exchange.write_file(body, part.start, part.count, owns_file=index == last)
    exchange.write(layout.closing)
    exchange.end()


def _respond_part(
    exchange: Exchange, status: int, fields: HeaderList, body: BinaryIO | bytes, start: int, count: int
) -> None:
    if isinstance(body, bytes):
        exchange.respond(status, fields, body[start : start + count])
    else:
        exchange.respond_file(status, fields, body, start, count)
