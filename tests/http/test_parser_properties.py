"""Property tests: the parser never raises anything but ProtocolError, and how bytes are cut into
reads never changes what it sees."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.http.helpers import feed

TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
tokens = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=12)
values = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20)
# Path characters, and percent-escapes as whole units: a lone "%" is a malformed path (400).
path_units = st.sampled_from([*"abcdefghij0123456789-._~", "%20", "%2F", "%c3%a9"])
paths = st.lists(st.lists(path_units, min_size=1, max_size=8).map("".join), max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)


def chunk(body: bytes, sizes: list[int]) -> bytes:
    """``body`` in the chunked coding, cut into pieces of ``sizes`` (the rest in one last piece)."""
    pieces, rest = [], body
    for size in sizes:
        if rest:
            pieces.append(rest[:size])
            rest = rest[size:]
    if rest:
        pieces.append(rest)
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, str, str, list[tuple[str, str]], bytes]:
    method = draw(st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "X-CUSTOM"]))
    path = draw(paths)
    fields = draw(st.lists(st.tuples(tokens, values), max_size=6))
    fields = [
        (name, value)
        for name, value in fields
        if name.lower() not in ("host", "content-length", "transfer-encoding", "connection", "expect")
    ]
    body = draw(st.binary(max_size=300))
    chunked = draw(st.booleans())
    head = f"{method} {path} HTTP/1.1\r\nHost: example\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields)
    if chunked:
        sizes = draw(st.lists(st.integers(min_value=1, max_value=50), max_size=8))
        data = (head + "Transfer-Encoding: chunked\r\n\r\n").encode("latin-1") + chunk(body, sizes)
    else:
        data = (head + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
    expected_fields = [("host", "example"), *((name.lower(), value.strip(" \t")) for name, value in fields)]
    return data, method, path, expected_fields, body


def cut(data: bytes, points: list[int]) -> list[bytes]:
    points = sorted({point % (len(data) + 1) for point in points})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return [piece for piece in pieces if piece]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_valid_requests_parse_back_to_what_was_sent_in_any_chunking(
    request: tuple[bytes, str, str, list[tuple[str, str]], bytes], points: list[int]
) -> None:
    data, method, path, fields, body = request
    events = feed(cut(data, points))
    assert events == feed([data])
    head = events[0]
    assert head[0] == "request"
    assert (head[1], head[3]) == (method, path)
    assert [field for field in head[6] if field[0] not in ("content-length", "transfer-encoding")] == fields
    received = b"".join(event[1] for event in events if event[0] == "data")
    assert received == body
    # A request without a body is complete with its head; any other ends with EndOfMessage.
    assert events[-1] == ("end",) if head[9] or body else len(events) == 1


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.lists(st.integers(min_value=0, max_value=10_000), max_size=10), st.booleans())
def test_any_bytes_in_any_chunking_give_the_same_events_or_a_protocol_error(
    data: bytes, points: list[int], eof: bool
) -> None:
    # feed() lets only ProtocolError through as ("error", status); any other exception fails here.
    assert feed(cut(data, points), eof) == feed([data], eof)


HEAD_PIECES = [
    b"GET",
    b"POST",
    b" ",
    b"/",
    b"/a",
    b"?q",
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"\r\n",
    b"\n",
    b"\r",
    b"Host: h",
    b"Content-Length: 3",
    b"Transfer-Encoding: chunked",
    b":",
    b"\t",
    b"0",
    b"3",
    b"abc",
    b"\x00",
    b"\xff",
    b";x=y",
]


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(HEAD_PIECES), max_size=40), st.lists(st.integers(0, 10_000), max_size=8))
def test_request_like_garbage_gives_the_same_events_in_any_chunking(pieces: list[bytes], points: list[int]) -> None:
    data = b"".join(pieces)
    assert feed(cut(data, points), True) == feed([data], True)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), st.integers(min_value=0), st.sampled_from([b"\n", b"\r"]), st.lists(st.integers(0, 10_000)))
def test_a_bare_cr_or_lf_put_anywhere_in_a_head_is_refused_in_any_chunking(
    request: tuple[bytes, str, str, list[tuple[str, str]], bytes], where: int, byte: bytes, points: list[int]
) -> None:
    # RFC 9112 2.2: we accept no line end but CRLF (docs/limits.md, "Strictness"). Whatever the bare
    # byte breaks first (the request line, a field), the answer is a 400, the same in every cutting.
    data = request[0]
    head_size = data.index(b"\r\n\r\n") + 4
    where %= head_size
    # A LF between the head's last CR and LF ends the head there, and is then a byte before the next
    # request: a 400 too, but for the request after this one.
    assume(not (byte == b"\n" and where == head_size - 1))
    broken = data[:where] + byte + data[where:]
    events = feed(cut(broken, points))
    assert events == feed([broken])
    assert events == [("error", 400)]
