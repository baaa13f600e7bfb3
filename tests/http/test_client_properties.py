"""Property tests of the client connection: a response parses back to what the backend sent, however
TCP cut it, and any bytes give the same events in any cutting or a 502, never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http.client_helpers import feed
from tests.http.test_parser_properties import chunk, cut, tokens, values

FRAMING = ("content-length", "transfer-encoding", "connection")


@st.composite
def responses(draw: st.DrawFn) -> tuple[bytes, int, list[tuple[str, str]], bytes, str]:
    status = draw(st.sampled_from([200, 201, 206, 301, 404, 418, 500, 599]))
    fields = [(name, value) for name, value in draw(st.lists(st.tuples(tokens, values), max_size=6))]
    fields = [(name, value) for name, value in fields if name.lower() not in FRAMING]
    body = draw(st.binary(max_size=300))
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    head = f"HTTP/1.1 {status} Reason\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields)
    if framing == "chunked":
        sizes = draw(st.lists(st.integers(min_value=1, max_value=50), max_size=8))
        data = (head + "Transfer-Encoding: chunked\r\n\r\n").encode("latin-1") + chunk(body, sizes)
    elif framing == "length":
        data = (head + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
    else:
        data = (head + "\r\n").encode("latin-1") + body
    expected = [(name.lower(), value.strip(" \t")) for name, value in fields]
    return data, status, expected, body, framing


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(responses(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_valid_responses_parse_back_to_what_was_sent_in_any_chunking(
    response: tuple[bytes, int, list[tuple[str, str]], bytes, str], points: list[int]
) -> None:
    data, status, fields, body, framing = response
    events = feed(cut(data, points), eof=framing == "close")
    assert events == feed([data], eof=framing == "close")
    head = events[0]
    assert head[:2] == ("head", status)
    assert [field for field in head[3] if field[0] not in FRAMING] == fields
    assert b"".join(event[1] for event in events if event[0] == "data") == body
    assert ("end",) in events
    assert events[-1] == ("reusable", framing != "close")


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=400),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=10),
    st.booleans(),
    st.sampled_from(["GET", "HEAD"]),
)
def test_any_bytes_in_any_chunking_give_the_same_events_or_a_502(
    data: bytes, points: list[int], eof: bool, method: str
) -> None:
    events = feed(cut(data, points), method, eof)
    assert events == feed([data], method, eof)
    if events[-1][0] == "error":
        assert events[-1] == ("error", 502)


RESPONSE_PIECES = [
    b"HTTP/1.1 ",
    b"HTTP/1.0 ",
    b"200",
    b"101",
    b"100",
    b"304",
    b" OK",
    b"\r\n",
    b"\n",
    b"\r",
    b"Content-Length: 3",
    b"Content-Length: 0",
    b"Transfer-Encoding: chunked",
    b"Connection: close",
    b":",
    b"0",
    b"3",
    b"abc",
    b"\x00",
    b";x=y",
]


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(RESPONSE_PIECES), max_size=40),
    st.lists(st.integers(0, 10_000), max_size=8),
    st.booleans(),
)
def test_response_like_garbage_gives_the_same_events_in_any_chunking(
    pieces: list[bytes], points: list[int], upgrade: bool
) -> None:
    data = b"".join(pieces)
    assert feed(cut(data, points), eof=True, upgrade=upgrade) == feed([data], eof=True, upgrade=upgrade)
