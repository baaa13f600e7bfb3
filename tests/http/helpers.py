"""Feeding a ServerConnection: whole, byte by byte, and split at every index, with identical events and
identical response bytes expected."""

from __future__ import annotations

import re
from typing import Any

import pytest

from reactor.http import framing, parser, receivebuffer
from reactor.http.errors import ProtocolError
from reactor.http.events import NEED_DATA, PAUSED, PEER_CLOSED, Data, EndOfMessage, Request
from reactor.http.fields import FieldLineCache
from reactor.http.parser import HeadCache, RequestLineCache
from reactor.http.receivebuffer import ReceiveBuffer
from reactor.http.serverconnection import ServerConnection
from reactor.http.state import Phase

Normalized = tuple[Any, ...]
DATE = b"Sat, 21 Nov 2026 12:00:00 GMT"


def make_connection(
    protocol: str = "HTTP/1.1",
    *,
    date: bytes = DATE,
    field_lines: FieldLineCache | None = None,
    request_lines: RequestLineCache | None = None,
    heads: HeadCache | None = None,
    limits: dict[str, int] | None = None,
) -> ServerConnection:
    """A ServerConnection with roomy limits (``limits`` overrides some), a fixed Date and, when
    given, the line and head caches to share."""
    given: dict[str, Any] = {"max_request_line": 8192, "max_head": 32768, "max_headers": 100, "max_body": 1 << 20}
    given.update(limits or {})
    return ServerConnection(
        **given,
        max_discard=64 * 1024,
        date=lambda: date,
        protocol=protocol,
        field_lines=field_lines,
        request_lines=request_lines,
        heads=heads,
    )


def describe(event: object) -> Normalized:
    """A comparable summary of an event."""
    if isinstance(event, Request):
        return (
            "request",
            event.method,
            event.target,
            event.path,
            event.query,
            event.version,
            tuple(event.headers),
            event.host,
            event.content_length,
            event.chunked,
            event.keep_alive,
            event.expect_continue,
        )
    if isinstance(event, Data):
        return ("data", event.data)
    if isinstance(event, EndOfMessage):
        return ("end",)
    return ("signal", event)


def respond(connection: ServerConnection, responses: list[bytes]) -> None:
    """Play the server's part once a request is complete: a whole response, its bytes recorded."""
    responses.append(connection.send_response(200, [("Content-Type", "text/plain")], b"ok"))
    if connection.phase is Phase.DONE:
        connection.start_next_cycle()


def drain(connection: ServerConnection, events: list[Normalized], responses: list[bytes]) -> bool:
    """Collect events until the connection needs data; answer each complete request. Returns False once
    the connection cannot go on (closed, or the cycle must close)."""
    while True:
        event = connection.next_event()
        if event is NEED_DATA:
            return True
        if event is PEER_CLOSED:
            events.append(describe(event))
            return False
        if event is PAUSED:
            if connection.phase is Phase.HANDLING:
                respond(connection, responses)
                continue
            return connection.phase is not Phase.MUST_CLOSE
        if isinstance(event, Data) and events and events[-1][0] == "data":
            # Where a body is cut into Data events depends on how the bytes arrived: merge them.
            events[-1] = ("data", events[-1][1] + event.data)
            continue
        events.append(describe(event))


def exchange(chunks: list[bytes], eof: bool = False, **limits: int) -> tuple[list[Normalized], bytes]:
    """Feed ``chunks`` in order; return the normalised events (a ProtocolError ends them as
    ("error", status)) and every byte the connection answered with, its error response included."""
    connection = make_connection(limits=limits)
    events: list[Normalized] = []
    responses: list[bytes] = []
    try:
        for chunk in chunks:
            if not chunk:
                continue  # b"" would mean end of stream; that is what ``eof`` is for
            connection.receive_data(chunk)
            if not drain(connection, events, responses):
                return events, b"".join(responses)
        if eof:
            connection.receive_data(b"")
            drain(connection, events, responses)
    except ProtocolError as error:
        events.append(("error", error.status))
        responses.append(connection.send_error(error.status, error.reason))
    return events, b"".join(responses)


def feed(chunks: list[bytes], eof: bool = False, **limits: int) -> list[Normalized]:
    """The events of ``exchange``."""
    return exchange(chunks, eof, **limits)[0]


def all_feeds(data: bytes, eof: bool = False, **limits: int) -> list[Normalized]:
    """Feed ``data`` whole, byte by byte, and split in two at every index; assert that each way gives
    the same events and the same response bytes, and return the events."""
    expected = exchange([data], eof, **limits)
    assert exchange([data[i : i + 1] for i in range(len(data))], eof, **limits) == expected, "byte by byte"
    for index in range(1, len(data)):
        assert exchange([data[:index], data[index:]], eof, **limits) == expected, f"split at {index}"
    return expected[0]


class Scans:
    """Bytes the parser asked to have searched, all told (see count_scans)."""

    def __init__(self) -> None:
        self.total = 0


class _CountingBuffer(ReceiveBuffer):
    scans = Scans()

    def find(self, sub: Any, start: Any = None, end: Any = None) -> int:
        self.scans.total += _span(len(self), start, end)
        return super().find(sub, start, end)


class _CountingPattern:
    """A compiled pattern that counts the span of each search before making it."""

    def __init__(self, pattern: re.Pattern[Any], scans: Scans) -> None:
        self._pattern = pattern
        self._scans = scans

    def _counted(self, method: str, string: Any, pos: int = 0, endpos: int | None = None) -> Any:
        self._scans.total += _span(len(string), pos, endpos)
        return getattr(self._pattern, method)(string, pos, len(string) if endpos is None else endpos)

    def search(self, string: Any, pos: int = 0, endpos: int | None = None) -> Any:
        return self._counted("search", string, pos, endpos)

    def match(self, string: Any, pos: int = 0, endpos: int | None = None) -> Any:
        return self._counted("match", string, pos, endpos)

    def fullmatch(self, string: Any, pos: int = 0, endpos: int | None = None) -> Any:
        return self._counted("fullmatch", string, pos, endpos)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"{name}: a scan count_scans does not count")


def _span(length: int, start: int | None, end: int | None) -> int:
    return max(0, min(length, length if end is None else end) - (start or 0))


def count_scans(monkeypatch: pytest.MonkeyPatch) -> Scans:
    """Count the bytes the request parser scans, through its two seams: every search of its
    ReceiveBuffer (``find``), and every search, match or fullmatch of a compiled pattern of the
    modules that read the buffer (the span from ``pos`` to ``endpos``, an upper bound of the work:
    what a rescan from the start inflates)."""
    scans = Scans()
    monkeypatch.setattr(_CountingBuffer, "scans", scans)
    monkeypatch.setattr(parser, "ReceiveBuffer", _CountingBuffer)
    for module in (parser, framing, receivebuffer):
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                monkeypatch.setattr(module, name, _CountingPattern(value, scans))
    return scans
