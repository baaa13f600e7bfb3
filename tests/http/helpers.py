"""Feeding the parser: whole, byte by byte, and split at every index, with identical events expected."""

from __future__ import annotations

from typing import Any

from reactor.http.errors import ProtocolError
from reactor.http.events import CLOSED, NEED_DATA, PAUSED, Data, EndOfMessage, Request
from reactor.http.parser import RequestParser
from reactor.http.state import Phase, Transition

Normalized = tuple[Any, ...]


def make_parser(**overrides: int) -> RequestParser:
    limits = {"max_request_line": 8192, "max_head": 32768, "max_headers": 100, "max_body": 1 << 20}
    limits.update(overrides)
    return RequestParser(**limits)


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


def respond(parser: RequestParser) -> None:
    """Play the server's part once a request is complete: start and end a response."""
    cycle = parser.cycle
    cycle.apply(Transition.RESPONSE_START)
    cycle.apply(Transition.RESPONSE_END)
    if cycle.phase is Phase.DONE:
        parser.start_next_cycle()


def drain(parser: RequestParser, events: list[Normalized]) -> bool:
    """Collect events until the parser needs data; answer each complete request. Returns False once
    the connection cannot go on (closed, or the cycle must close)."""
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            return True
        if event is CLOSED:
            events.append(describe(event))
            return False
        if event is PAUSED:
            if parser.cycle.phase is Phase.HANDLING:
                respond(parser)
                continue
            return parser.cycle.phase is not Phase.MUST_CLOSE
        if isinstance(event, Data) and events and events[-1][0] == "data":
            # Where a body is cut into Data events depends on how the bytes arrived: merge them.
            events[-1] = ("data", events[-1][1] + event.data)
            continue
        events.append(describe(event))


def feed(chunks: list[bytes], eof: bool = False, **limits: int) -> list[Normalized]:
    """Feed ``chunks`` in order and return the normalised events; a ProtocolError ends the list as
    ("error", status)."""
    parser = make_parser(**limits)
    events: list[Normalized] = []
    try:
        for chunk in chunks:
            if not chunk:
                continue  # b"" would mean end of stream; that is what ``eof`` is for
            parser.receive_data(chunk)
            if not drain(parser, events):
                return events
        if eof:
            parser.receive_data(b"")
            drain(parser, events)
    except ProtocolError as error:
        events.append(("error", error.status))
    return events


def all_feeds(data: bytes, eof: bool = False, **limits: int) -> list[Normalized]:
    """Feed ``data`` whole, byte by byte, and split in two at every index; assert that each way gives
    the same events, and return them."""
    expected = feed([data], eof, **limits)
    assert feed([data[i : i + 1] for i in range(len(data))], eof, **limits) == expected, "byte by byte"
    for index in range(1, len(data)):
        assert feed([data[:index], data[index:]], eof, **limits) == expected, f"split at {index}"
    return expected
