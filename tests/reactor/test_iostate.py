"""The I/O state rule and the rows the transport derives its interest and timer from, checked as tables:
no socket, no loop, just the two pure functions."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from reactor.http import state as cycle_state
from reactor.loop.eventloop import EVENT_READ, EVENT_WRITE
from reactor.net import iostate
from reactor.net.iostate import (
    IO_ROWS,
    IO_TRANSITIONS,
    READ_TIMEOUTS,
    IOState,
    Timeout,
    fill,
    io_row,
    next_state,
    settled,
)

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


# What each state does, as the rules the transport relies on, over every input of io_row.
ROWS = [
    (state, queued, read_timeout, io_row(state, queued, read_timeout))
    for state, queued, read_timeout in itertools.product(IOState, (False, True), READ_TIMEOUTS)
]
# The states that send what is queued (a handshake's records are OpenSSL's business, lingering has
# shut our side down, closed has dropped the queue).
SENDING = {S.READING, S.WAITING, S.WRITING, S.CLOSING}


def test_write_interest_exactly_while_a_sending_state_has_bytes_queued() -> None:
    # Interest follows state: a writable socket with nothing to send would wake the loop for nothing.
    for state, queued, read_timeout, row in ROWS:
        assert bool(row.events & EVENT_WRITE) is (queued and state in SENDING), (state, queued, read_timeout)


def test_read_interest_exactly_where_the_peer_is_read() -> None:
    # Reading: the protocol wants bytes. Lingering: what the peer still sends is read and dropped
    # until it closes. Anywhere else the peer's bytes wait in the kernel (backpressure).
    for state, queued, read_timeout, row in ROWS:
        assert bool(row.events & EVENT_READ) is (state in {S.READING, S.LINGERING}), (state, queued, read_timeout)


def test_every_wait_on_the_peer_is_timed() -> None:
    # A peer that stops reading or sending must not hold a connection for ever (slowloris, a client
    # that never reads): a row with any interest has a timer, unless the protocol itself reads with
    # no timeout (a raw stream, idle as long as it likes; what it queues below the high-water mark
    # waits with it). A handshake's interest is OpenSSL's, its timer the row's.
    for state, queued, read_timeout, row in ROWS:
        if row.events or state is S.HANDSHAKING:
            untimed_stream = state is S.READING and read_timeout is Timeout.NO_TIMEOUT
            assert (row.timeout is Timeout.NO_TIMEOUT) is untimed_stream, (state, queued, read_timeout)


def test_a_connection_that_waits_for_its_handler_costs_no_interest_and_no_timer() -> None:
    # Ten thousand connections whose handlers have not answered yet cost the loop nothing.
    for read_timeout in READ_TIMEOUTS:
        assert io_row(S.WAITING, False, read_timeout) == iostate.Row(0, Timeout.NO_TIMEOUT)
    assert io_row(S.CLOSED, True, Timeout.KEEPALIVE_TIMEOUT) == iostate.Row(0, Timeout.NO_TIMEOUT)


def test_a_read_timeout_times_the_reading_state() -> None:
    # The protocol's choice of timeout, except keep-alive: waiting for the next request is not
    # idleness while the last response still leaves, so the send timeout runs until the last byte
    # (as nginx does).
    for read_timeout in READ_TIMEOUTS:
        assert io_row(S.READING, False, read_timeout).timeout is read_timeout
        queued = io_row(S.READING, True, read_timeout).timeout
        assert queued is (Timeout.SEND_TIMEOUT if read_timeout is Timeout.KEEPALIVE_TIMEOUT else read_timeout)


def test_sending_is_timed_by_the_send_timeout_and_the_ends_by_their_own() -> None:
    for read_timeout in READ_TIMEOUTS:
        for state in (S.WAITING, S.WRITING, S.CLOSING):
            assert io_row(state, True, read_timeout).timeout is Timeout.SEND_TIMEOUT
        for queued in (False, True):
            assert io_row(S.HANDSHAKING, queued, read_timeout).timeout is Timeout.HANDSHAKE_TIMEOUT
            assert io_row(S.LINGERING, queued, read_timeout).timeout is Timeout.LINGER_TIMEOUT


def test_a_settle_ends_where_next_state_rests_with_that_states_row() -> None:
    """settled, the one lookup the transport makes, is next_state applied until it rests, and the
    row of the state it rests in, with bytes queued whenever the queue is not empty."""
    for state, reading, queue, closing, linger, read_timeout in itertools.product(
        IOState, (True, False), iostate.Fill, (True, False), (True, False), READ_TIMEOUTS
    ):
        rest = state
        while (moved := next_state(rest, reading, queue, closing, linger)) is not rest:
            rest = moved
        assert settled(state, reading, queue, closing, linger, read_timeout) == (
            rest,
            io_row(rest, queue is not iostate.EMPTY, read_timeout),
        )
        assert IO_ROWS[rest, queue is not iostate.EMPTY, read_timeout] == io_row(
            rest, queue is not iostate.EMPTY, read_timeout
        )


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
