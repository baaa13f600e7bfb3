"""The I/O state rule and the rows the transport derives its interest and timer from, checked as tables:
no socket, no loop, just the two pure functions."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from reactor import iostate
from reactor.http import state as cycle_state
from reactor.iostate import IO_ROWS, IO_TRANSITIONS, READ_TIMEOUTS, IOState, Timeout, fill, io_row, next_state
from reactor.loop import EVENT_READ, EVENT_WRITE

S = IOState
HIGH, LOW = 64, 16


def move(state: IOState, reading: bool, queued: int, closing: bool, linger: bool) -> IOState:
    return next_state(state, reading, fill(queued, LOW, HIGH), closing, linger)


ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


# (state, reading, queued, closing, linger) -> the state next_state picks.
RULE = [
    # Reading or waiting follows what the protocol wants, while the queue stays at or below high water.
    (S.READING, True, 0, False, False, S.READING),
    (S.READING, False, 0, False, False, S.WAITING),
    (S.WAITING, True, HIGH, False, False, S.READING),
    (S.WAITING, False, HIGH, False, False, S.WAITING),
    # Above high water: writing, whatever the protocol wants.
    (S.READING, True, HIGH + 1, False, False, S.WRITING),
    (S.WAITING, False, HIGH + 1, False, False, S.WRITING),
    # Hysteresis: writing lasts until the queue is down to low water.
    (S.WRITING, True, LOW + 1, False, False, S.WRITING),
    (S.WRITING, True, HIGH, False, False, S.WRITING),
    (S.WRITING, True, LOW, False, False, S.READING),
    (S.WRITING, False, 0, False, False, S.WAITING),
    # A close: first closing, while anything is queued; then lingering or closed.
    (S.READING, True, 0, True, False, S.CLOSING),
    (S.WAITING, False, 5, True, True, S.CLOSING),
    (S.WRITING, True, HIGH + 1, True, False, S.CLOSING),
    (S.CLOSING, False, 5, True, True, S.CLOSING),
    (S.CLOSING, False, 0, True, False, S.CLOSED),
    (S.CLOSING, False, 0, True, True, S.LINGERING),
    # Closing is not undone: later settles need not ask again.
    (S.CLOSING, True, 0, False, False, S.CLOSED),
    (S.CLOSING, True, 5, False, True, S.CLOSING),
    # Only the peer or a timer ends lingering; closed is final.
    (S.LINGERING, True, 0, True, True, S.LINGERING),
    (S.LINGERING, False, 0, False, False, S.LINGERING),
    (S.CLOSED, True, HIGH + 1, True, True, S.CLOSED),
    # The handshake lasts whatever the protocol wants or is queued; only a close leaves it here (its
    # completion is the TLS transport's move to reading, its timeout the one exit).
    (S.HANDSHAKING, True, 0, False, False, S.HANDSHAKING),
    (S.HANDSHAKING, False, HIGH + 1, False, True, S.HANDSHAKING),
    (S.HANDSHAKING, True, 0, True, False, S.CLOSING),
    (S.HANDSHAKING, False, 5, True, True, S.CLOSING),  # the plain-HTTP refusal leaves, then lingering
]


@pytest.mark.parametrize(("state", "reading", "queued", "closing", "linger", "expected"), RULE)
def test_next_state(state: IOState, reading: bool, queued: int, closing: bool, linger: bool, expected: IOState) -> None:
    assert move(state, reading, queued, closing, linger) is expected


def test_every_move_next_state_makes_is_a_listed_transition() -> None:
    """Over every state and every kind of input, next_state stays put or makes a move the table lists."""
    for state, reading, queued, closing, linger in itertools.product(
        IOState, (True, False), (0, LOW, LOW + 1, HIGH, HIGH + 1), (True, False), (True, False)
    ):
        new = move(state, reading, queued, closing, linger)
        assert new is state or new in IO_TRANSITIONS[state], (state, new)


def test_settling_always_comes_to_rest() -> None:
    """Applied again and again to its own result, next_state reaches a fixed point in a few steps:
    the transport's settling loop ends."""
    for state, reading, queued, closing, linger in itertools.product(
        IOState, (True, False), (0, HIGH + 1), (True, False), (True, False)
    ):
        for _ in range(len(IOState)):
            new = move(state, reading, queued, closing, linger)
            if new is state:
                break
            state = new
        else:
            pytest.fail(f"no rest from {state}")


def test_every_transition_is_reachable_by_next_state_or_the_one_exit() -> None:
    """The table lists no move nothing makes: each is next_state's, the abort to closed, or the end
    of a TLS handshake (tls.py enters reading itself)."""
    made = set()
    for state, reading, queued, closing, linger in itertools.product(
        IOState, (True, False), (0, LOW, HIGH + 1), (True, False), (True, False)
    ):
        new = move(state, reading, queued, closing, linger)
        if new is not state:
            made.add((state, new))
    listed = {(old, new) for old, targets in IO_TRANSITIONS.items() for new in targets}
    aborts = {(old, S.CLOSED) for old in IOState if S.CLOSED in IO_TRANSITIONS[old]}
    handshake_done = {(S.HANDSHAKING, S.READING)}
    assert listed - made <= aborts | handshake_done


# What each state does: reads, writes while bytes are queued, the timer with bytes queued and without
# (READ: the timeout the protocol reads under; reading for the next request while the last response
# still leaves runs the send timeout instead).
READ = None
BEHAVIOUR = {
    S.HANDSHAKING: (False, False, Timeout.HANDSHAKE_TIMEOUT, Timeout.HANDSHAKE_TIMEOUT),
    S.READING: (True, True, READ, READ),
    S.WAITING: (False, True, Timeout.SEND_TIMEOUT, Timeout.NO_TIMEOUT),
    S.WRITING: (False, True, Timeout.SEND_TIMEOUT, Timeout.SEND_TIMEOUT),
    S.CLOSING: (False, True, Timeout.SEND_TIMEOUT, Timeout.SEND_TIMEOUT),
    S.LINGERING: (True, False, Timeout.LINGER_TIMEOUT, Timeout.LINGER_TIMEOUT),
    S.CLOSED: (False, False, Timeout.NO_TIMEOUT, Timeout.NO_TIMEOUT),
}


@pytest.mark.parametrize("state", list(IOState))
@pytest.mark.parametrize("read_timeout", READ_TIMEOUTS)
def test_each_state_reads_writes_and_times_as_documented(state: IOState, read_timeout: Timeout) -> None:
    reads, writes, timeout, idle_timeout = BEHAVIOUR[state]
    queued, idle = io_row(state, True, read_timeout), io_row(state, False, read_timeout)
    assert bool(idle.events & EVENT_READ) is reads and bool(queued.events & EVENT_READ) is reads
    assert bool(queued.events & EVENT_WRITE) is writes and not idle.events & EVENT_WRITE
    if timeout is READ:
        assert idle.timeout is read_timeout
        if read_timeout is Timeout.KEEPALIVE_TIMEOUT:
            assert queued.timeout is Timeout.SEND_TIMEOUT  # keep-alive starts with the response's last byte
        else:
            assert queued.timeout is read_timeout
    else:
        assert (queued.timeout, idle.timeout) == (timeout, idle_timeout)


def test_the_rows_the_transport_reads_are_io_row_itself() -> None:
    assert len(IO_ROWS) == len(IOState) * 2 * len(READ_TIMEOUTS)
    for (state, queued, read_timeout), row in IO_ROWS.items():
        assert row == io_row(state, queued, read_timeout)


def test_the_architecture_page_describes_every_row() -> None:
    """docs/architecture.md's state table has a row for each state, and says "read" for exactly the
    states that read."""
    rows = {}
    for line in ARCHITECTURE.read_text().splitlines():
        match = re.match(r"\| (\w+) \| [^|]+ \| ([^|]+) \|", line)
        if match and match.group(1) in {state.value for state in IOState}:
            rows[match.group(1)] = match.group(2)
    assert set(rows) == {state.value for state in IOState}
    for state in IOState:
        reads = bool(io_row(state, False, Timeout.KEEPALIVE_TIMEOUT).events & EVENT_READ)
        assert rows[state.value].startswith("read") is reads, state


def test_fill_places_the_queue_against_the_water_marks() -> None:
    assert [fill(queued, LOW, HIGH) for queued in (0, 1, LOW, LOW + 1, HIGH, HIGH + 1)] == [
        iostate.EMPTY,
        iostate.LOW,
        iostate.LOW,
        iostate.HIGH,
        iostate.HIGH,
        iostate.OVER,
    ]


def test_the_module_names_of_the_members_are_the_members() -> None:
    # They are unpacked from the enums in definition order: a reordered member must not rename one.
    for module, enums in (
        (iostate, (IOState, Timeout, iostate.Fill)),
        (cycle_state, (cycle_state.Phase, cycle_state.Transition)),
    ):
        for enum_type in enums:
            for member in enum_type:
                assert getattr(module, member.name) is member
