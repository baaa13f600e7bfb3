"""wsgi.input: reads of every shape, blocking until the loop feeds, and the flow-control wakes."""

from __future__ import annotations

import itertools
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.wsgi.body import RequestBody
from tests.integration.client import wait_until


def complete(*pieces: bytes) -> RequestBody:
    body = RequestBody(None, 64, 16)
    for piece in pieces:
        body.feed(piece)
    body.end()
    return body


def test_read_with_a_size_spans_pieces_and_stops_at_the_end() -> None:
    body = complete(b"ab", b"cde", b"f")
    assert body.read(3) == b"abc"
    assert body.read(0) == b""
    assert body.read(10) == b"def"
    assert body.read(10) == b""
    assert body.read() == b""


def test_read_without_a_size_returns_everything_left() -> None:
    body = complete(b"ab", b"cd")
    assert body.read(1) == b"a"
    assert body.read() == b"bcd"
    assert complete(b"xy").read(None) == b"xy"


def test_readline_readlines_and_iteration() -> None:
    body = complete(b"one\ntw", b"o\nthree\nfour")
    assert body.readline() == b"one\n"
    assert body.readline(2) == b"tw"
    assert body.readline() == b"o\n"
    assert body.readlines() == [b"three\n", b"four"]
    assert list(complete(b"a\nb\n")) == [b"a\n", b"b\n"]
    assert complete(b"a\nb\nc\n").readlines(3) == [b"a\n", b"b\n"]  # as io: stop once the total reaches the hint


@given(
    data=st.binary(max_size=300),
    cuts=st.lists(st.integers(0, 300), max_size=8),
    reads=st.lists(st.one_of(st.integers(-1, 40), st.just("line")), max_size=30),
)
def test_any_feeding_and_any_reads_give_back_the_body(data: bytes, cuts: list[int], reads: list[int | str]) -> None:
    points = sorted({0, len(data), *(cut for cut in cuts if cut <= len(data))})
    body = complete(*(data[start:end] for start, end in itertools.pairwise(points)))
    out = b""
    for read in reads:
        out += body.readline() if read == "line" else body.read(read)  # type: ignore[arg-type]
    assert out + body.read() == data


def test_a_read_blocks_until_the_loop_feeds_and_the_first_read_wakes_the_loop() -> None:
    wakes: list[str] = []
    body = RequestBody(lambda: wakes.append("wake"), 64, 16)
    result: list[bytes] = []
    reader = threading.Thread(target=lambda: result.append(body.read(5)))
    reader.start()
    assert wait_until(lambda: wakes == ["wake"])  # the body is asked for only when the app reads it
    body.delivering()
    body.feed(b"abc")
    body.feed(b"defg")
    reader.join(10)
    assert result == [b"abcde"]


def test_feed_pauses_at_high_water_and_the_reader_wakes_the_loop_at_low_water() -> None:
    wakes: list[str] = []
    body = RequestBody(lambda: wakes.append("wake"), 64, 16)
    body.delivering()
    assert body.feed(b"x" * 40) is False
    assert body.feed(b"x" * 30) is True  # 70 >= 64: pause delivery
    body.read(40)
    assert wakes == []  # 30 left: still above the low-water mark
    body.read(14)
    assert wakes == ["wake"]  # 16 left
    body.read(10)
    assert wakes == ["wake"]  # one wake at a time, until the loop answers it
    body.delivering()
    assert body.feed(b"y" * 10) is False


def test_abort_wakes_a_blocked_reader_with_an_error() -> None:
    body = RequestBody(lambda: None, 64, 16)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            body.read(1)
        except ConnectionAbortedError as error:
            errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    body.abort()
    reader.join(10)
    assert len(errors) == 1
    with pytest.raises(ConnectionAbortedError):
        body.readline()


def test_discard_drops_the_rest_and_reads_see_the_end() -> None:
    body = RequestBody(lambda: None, 64, 16)
    body.feed(b"abc")
    body.discard()
    assert body.feed(b"def") is False
    assert body.read() == b""
