"""The tutorial's pieces without sockets: the sans-IO parser fed whole, byte by byte and split at
every index; the backpressure rule as a table; the timer heap on a fake clock."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examples.tutorial.step4_states import State
from examples.tutorial.step5_sansio import NEED_DATA, ProtocolError, Request, RequestParser
from examples.tutorial.step7_backpressure import HIGH_WATER, LOW_WATER, next_state
from examples.tutorial.step8_timers import Timers

PIPELINED = (
    b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n"
    b"POST /b HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nxyz"
    b"GET /c HTTP/1.0\r\n\r\n"
)


def parse(pieces: list[bytes]) -> list[Request]:
    parser, requests = RequestParser(), []
    for piece in pieces:
        parser.receive_data(piece)
        while (event := parser.next_event()) != NEED_DATA:
            assert isinstance(event, Request)
            requests.append(event)
    return requests


def summary(requests: list[Request]) -> list[tuple[str, str, bytes, bool]]:
    return [(request.method, request.target, request.body, request.keep_alive) for request in requests]


EXPECTED = [("GET", "/a", b"", True), ("POST", "/b", b"xyz", False), ("GET", "/c", b"", False)]


def test_whole_and_byte_by_byte_give_the_same_requests() -> None:
    assert summary(parse([PIPELINED])) == EXPECTED
    assert summary(parse([bytes([byte]) for byte in PIPELINED])) == EXPECTED


def test_split_at_every_index() -> None:
    for index in range(len(PIPELINED) + 1):
        assert summary(parse([PIPELINED[:index], PIPELINED[index:]])) == EXPECTED, index


@given(st.lists(st.integers(0, len(PIPELINED)), max_size=8))
def test_any_split_gives_the_same_requests(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(PIPELINED)]
    assert summary(parse([PIPELINED[start:end] for start, end in itertools.pairwise(points)])) == EXPECTED


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 9000, 431),
    ],
)
def test_bad_bytes_raise_their_status(data: bytes, status: int) -> None:
    parser = RequestParser()
    parser.receive_data(data)
    with pytest.raises(ProtocolError) as raised:
        parser.next_event()
    assert raised.value.status == status


@pytest.mark.parametrize(
    ("state", "queued", "keep_alive", "expected"),
    [
        (State.READING, 0, True, State.READING),
        (State.READING, HIGH_WATER, True, State.READING),
        (State.READING, HIGH_WATER + 1, True, State.WRITING),
        (State.WRITING, LOW_WATER + 1, True, State.WRITING),  # hysteresis: not back at the high mark
        (State.WRITING, LOW_WATER, True, State.READING),
        (State.READING, 10, False, State.WRITING),  # the last answer leaves, then close
        (State.WRITING, 0, False, State.CLOSED),
        (State.READING, 0, False, State.CLOSED),
    ],
)
def test_next_state(state: State, queued: int, keep_alive: bool, expected: State) -> None:
    assert next_state(state, queued, keep_alive) is expected


def test_timers_run_in_time_order_and_set_the_select_timeout() -> None:
    now = [100.0]
    timers = Timers(lambda: now[0])
    ran: list[str] = []
    assert timers.timeout() is None  # nothing armed: select may wait for ever
    timers.call_later(2, ran.append, "late")
    early = timers.call_later(1, ran.append, "early")
    timers.call_later(1, ran.append, "same time, set second")
    assert timers.timeout() == 1
    early.cancel()
    now[0] = 101.0
    assert timers.timeout() == 0
    assert timers.run_due() == 1 and ran == ["same time, set second"]
    now[0] = 105.0
    timers.run_due()
    assert ran == ["same time, set second", "late"] and timers.timeout() is None
