"""The I/O state table and the rule that moves between its states, checked as tables: no socket, no
loop, just the pure function and the rows the transport derives its interest and timer from."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from reactor import iostate
from reactor.http import state as cycle_state
from reactor.iostate import IO_STATES, IO_TRANSITIONS, NEXT_STATE_WHEN_EMPTY, IOState, Timeout, next_state

S = IOState
HIGH, LOW = 64, 16
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
    assert (
        next_state(
            state, reading=reading, queued=queued, closing=closing, linger=linger, high_water=HIGH, low_water=LOW
        )
        is expected
    )


def test_every_move_next_state_makes_is_a_listed_transition() -> None:
    """Over every state and every kind of input, next_state stays put or makes a move the table lists."""
    for state, reading, queued, closing, linger in itertools.product(
        IOState, (True, False), (0, LOW, LOW + 1, HIGH, HIGH + 1), (True, False), (True, False)
    ):
        new = next_state(
            state, reading=reading, queued=queued, closing=closing, linger=linger, high_water=HIGH, low_water=LOW
        )
        assert new is state or new in IO_TRANSITIONS[state], (state, new)


def test_settling_always_comes_to_rest() -> None:
    """Applied again and again to its own result, next_state reaches a fixed point in a few steps:
    the transport's settling loop ends."""
    for state, reading, queued, closing, linger in itertools.product(
        IOState, (True, False), (0, HIGH + 1), (True, False), (True, False)
    ):
        for _ in range(len(IOState)):
            new = next_state(
                state, reading=reading, queued=queued, closing=closing, linger=linger, high_water=HIGH, low_water=LOW
            )
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
        new = next_state(
            state, reading=reading, queued=queued, closing=closing, linger=linger, high_water=HIGH, low_water=LOW
        )
        if new is not state:
            made.add((state, new))
    listed = {(old, new) for old, targets in IO_TRANSITIONS.items() for new in targets}
    aborts = {(old, S.CLOSED) for old in IOState if S.CLOSED in IO_TRANSITIONS[old]}
    handshake_done = {(S.HANDSHAKING, S.READING)}
    assert listed - made <= aborts | handshake_done


# What each state does: reads, writes while bytes are queued, the timer with bytes queued and without.
BEHAVIOUR = {
    S.HANDSHAKING: (False, False, Timeout.HANDSHAKE, Timeout.HANDSHAKE),
    S.READING: (True, True, Timeout.READ, Timeout.READ),
    S.WAITING: (False, True, Timeout.SEND, Timeout.NONE),
    S.WRITING: (False, True, Timeout.SEND, Timeout.SEND),
    S.CLOSING: (False, True, Timeout.SEND, Timeout.SEND),
    S.LINGERING: (True, False, Timeout.LINGER, Timeout.LINGER),
    S.CLOSED: (False, False, Timeout.NONE, Timeout.NONE),
}


@pytest.mark.parametrize("state", list(IOState))
def test_each_state_reads_writes_and_times_as_documented(state: IOState) -> None:
    row = IO_STATES[state]
    assert (row.reads, row.writes, row.timeout, row.idle_timeout) == BEHAVIOUR[state]


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
        assert rows[state.value].startswith("read") is IO_STATES[state].reads, state


@pytest.mark.parametrize(("high_water", "low_water"), [(0, 0), (1, 0), (64 * 1024, 16 * 1024)])
def test_the_lookup_for_an_empty_queue_is_next_state_itself(high_water: int, low_water: int) -> None:
    # The transport asks the table instead of next_state when nothing is queued: it must never differ.
    for (state, reading, closing, linger), expected in NEXT_STATE_WHEN_EMPTY.items():
        moved = next_state(
            state,
            reading=reading,
            queued=0,
            closing=closing,
            linger=linger,
            high_water=high_water,
            low_water=low_water,
        )
        assert moved is expected
    assert len(NEXT_STATE_WHEN_EMPTY) == len(IOState) * 8


def test_the_module_names_of_the_members_are_the_members() -> None:
    # They are unpacked from the enums in definition order: a reordered member must not rename one.
    for module, enums in ((iostate, (IOState, Timeout)), (cycle_state, (cycle_state.Phase, cycle_state.Transition))):
        for enum_type in enums:
            for member in enum_type:
                assert getattr(module, member.name) is member
