"""Feeding a ClientConnection a backend's response: whole, byte by byte, and split at every index, with
identical events expected (the request parser's helpers.py, for the other direction)."""

from __future__ import annotations

from typing import Any

from reactor.http.client import ClientConnection, ResponseHead
from reactor.http.errors import ProtocolError
from reactor.http.events import NEED_DATA, PAUSED, PEER_CLOSED, Data, EndOfMessage

Normalized = tuple[Any, ...]


def make_client(method: str = "GET", *, upgrade: bool = False, max_head: int = 32768) -> ClientConnection:
    """A ClientConnection with a bodiless ``method`` request sent."""
    connection = ClientConnection(max_head=max_head, max_headers=100)
    connection.send_request(method, "/", [("Host", "backend")], upgrade=upgrade)
    return connection


def describe(event: object) -> Normalized:
    if isinstance(event, ResponseHead):
        return ("head", event.status, event.version, tuple(event.headers), event.content_length, event.chunked)
    if isinstance(event, Data):
        return ("data", event.data)
    if isinstance(event, EndOfMessage):
        return ("end",)
    return ("signal", event)


def drain(connection: ClientConnection, events: list[Normalized]) -> bool:
    """Collect events until the connection needs data; False once it has nothing more to give."""
    while True:
        event = connection.next_event()
        if event is NEED_DATA:
            return True
        if event is PAUSED or event is PEER_CLOSED:
            events.append(describe(event))
            return False
        if isinstance(event, Data) and events and events[-1][0] == "data":
            events[-1] = ("data", events[-1][1] + event.data)  # where a body is cut depends on the reads
            continue
        events.append(describe(event))


def feed(chunks: list[bytes], method: str = "GET", eof: bool = False, upgrade: bool = False) -> list[Normalized]:
    """Feed ``chunks`` (then the end of the stream with ``eof``); return the normalised events, a
    ProtocolError ending them as ("error", status), and last ("reusable", bool) when they ended well."""
    connection = make_client(method, upgrade=upgrade)
    events: list[Normalized] = []
    try:
        going = True
        for chunk in chunks:
            if chunk:  # b"" would mean the end of the stream: that is what ``eof`` is for
                connection.receive_data(chunk)
                going = going and drain(connection, events)
        if eof:
            connection.receive_data(b"")
            if going:
                drain(connection, events)
    except ProtocolError as error:
        events.append(("error", error.status))
        return events
    events.append(("reusable", connection.reusable))
    return events


def all_feeds(data: bytes, method: str = "GET", eof: bool = False, upgrade: bool = False) -> list[Normalized]:
    """Feed ``data`` whole, byte by byte, and split in two at every index; assert that each gives the
    same events, and return them."""
    expected = feed([data], method, eof, upgrade)
    assert feed([data[i : i + 1] for i in range(len(data))], method, eof, upgrade) == expected, "byte by byte"
    for index in range(1, len(data)):
        assert feed([data[:index], data[index:]], method, eof, upgrade) == expected, f"split at {index}"
    return expected
