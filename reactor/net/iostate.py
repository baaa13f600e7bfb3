"""A connection's I/O states as data: which state a transport is in, and what each state watches and
times.

Two pure functions make the whole rule. ``next_state`` says which state a transport moves to, from
where it is and what it holds; ``io_row`` says what a state does: the selector interest and which
limit times it, with nothing queued and with bytes queued (``IO_ROWS`` is it for every input,
computed once). ``settled`` is the two together, memoised: the state a settle ends in and its row,
one lookup per settle. ``IO_TRANSITIONS`` lists the moves ``next_state`` and the transport's one exit
(``abort``) can make; anything else is a bug the transport raises for. The Transport (transport.py)
is the only user.
"""

from __future__ import annotations

import enum
import functools
import itertools
from dataclasses import dataclass
from selectors import EVENT_READ, EVENT_WRITE


class IOState(enum.Enum):
    __hash__ = object.__hash__  # identity, in C: states are looked up in dicts on every transition

    HANDSHAKING = "handshaking"  # TLS only: the handshake runs; interest is what it asks for (read or write)
    READING = "reading"  # the protocol wants bytes
    WAITING = "waiting"  # the protocol wants none now: its handler owes the next move
    WRITING = "writing"  # queued output above the high-water mark: no reading until it is below the low mark
    CLOSING = "closing"  # the last queued bytes leave; then lingering or closed
    LINGERING = "lingering"  # our side is shut down; what the peer still sends is dropped until it closes
    CLOSED = "closed"


class Timeout(enum.Enum):
    """Which limit times a connection's one timer. The value names it in close reasons ("keep-alive
    timeout"); the durations are Limits fields (limits.py: ``Limits.seconds``)."""

    __hash__ = object.__hash__

    NO_TIMEOUT = "none"
    HEADER_TIMEOUT = "head"  # a whole request head, however slowly it trickles in: progress does not extend it
    KEEPALIVE_TIMEOUT = "keep-alive"  # idle between requests
    BODY_TIMEOUT = "body"  # between two reads of a request body
    SEND_TIMEOUT = "send"  # between two sends that moved data
    LINGER_TIMEOUT = "linger"  # between two reads while lingering, within the whole lingering time
    HANDSHAKE_TIMEOUT = "handshake"  # a whole TLS handshake: progress does not extend it


class Fill(enum.Enum):
    """How full the send queue is, against the water marks (limits.py: high_water, low_water)."""

    __hash__ = object.__hash__

    EMPTY = "empty"
    LOW = "at most the low mark"
    HIGH = "at most the high mark"
    OVER = "over the high mark"


# The members as module names, for the code that runs on every request: on CPython 3.11 each
# ``IOState.READING`` is a lookup through EnumType.__getattr__ (gone in 3.12) that costs ten times a
# global's, and such lookups were 13 % of a cached request's instructions.
HANDSHAKING = IOState.HANDSHAKING
READING = IOState.READING
WAITING = IOState.WAITING
WRITING = IOState.WRITING
CLOSING = IOState.CLOSING
LINGERING = IOState.LINGERING
CLOSED = IOState.CLOSED
NO_TIMEOUT = Timeout.NO_TIMEOUT
HEADER_TIMEOUT = Timeout.HEADER_TIMEOUT
KEEPALIVE_TIMEOUT = Timeout.KEEPALIVE_TIMEOUT
BODY_TIMEOUT = Timeout.BODY_TIMEOUT
SEND_TIMEOUT = Timeout.SEND_TIMEOUT
LINGER_TIMEOUT = Timeout.LINGER_TIMEOUT
HANDSHAKE_TIMEOUT = Timeout.HANDSHAKE_TIMEOUT
EMPTY = Fill.EMPTY
LOW = Fill.LOW
HIGH = Fill.HIGH
OVER = Fill.OVER

# What a protocol may read under (Transport.resume_reading); a raw stream reads with no timeout.
READ_TIMEOUTS = (NO_TIMEOUT, HEADER_TIMEOUT, KEEPALIVE_TIMEOUT, BODY_TIMEOUT)
# Progress that starts a running timeout again: bytes read, or bytes sent.
RESTARTED_BY_READ = frozenset({KEEPALIVE_TIMEOUT, BODY_TIMEOUT, LINGER_TIMEOUT})
RESTARTED_BY_SEND = frozenset({SEND_TIMEOUT})


def fill(queued: int, low_water: int, high_water: int) -> Fill:
    """Where ``queued`` bytes stand against the water marks."""
    if not queued:
        return EMPTY
    if queued <= low_water:
        return LOW
    return HIGH if queued <= high_water else OVER


@functools.cache
def next_state(state: IOState, reading: bool, queue: Fill, closing: bool, linger: bool) -> IOState:
    """The state a transport in ``state`` moves to: ``reading``, the protocol wants bytes (and the
    peer has not ended its side); ``queue``, how full the send queue is; ``closing``, a close was
    asked for (a transport already closing goes on closing); ``linger``, the peer may still be
    sending when our last byte is out. Backpressure has hysteresis: over the high mark reading
    stops, and it starts again at the low mark. Returns ``state`` itself when nothing moves; only the
    peer or a timer ends LINGERING, and only its end (the TLS transport's move to READING), a close
    or a timer ends HANDSHAKING. Memoised: the transport asks on every settle."""
    if state is LINGERING or state is CLOSED:
        return state
    if state is HANDSHAKING and not closing:
        return state
    if closing or state is CLOSING:  # once closing, always closing
        if state is not CLOSING or queue is not EMPTY:
            return CLOSING
        return LINGERING if linger else CLOSED
    if queue is OVER or (state is WRITING and queue is HIGH):
        return WRITING
    return READING if reading else WAITING


@dataclass(frozen=True, slots=True)
class Row:
    """What a transport does in one state: the selector interest, and which limit times its timer."""

    events: int  # EVENT_READ and/or EVENT_WRITE, or 0: not registered
    timeout: Timeout


def io_row(state: IOState, queued: bool, read_timeout: Timeout) -> Row:
    """What a transport in ``state`` watches and times, with bytes ``queued`` or not, when its protocol
    reads under ``read_timeout``. Write interest only while bytes are queued (and never while
    handshaking or lingering); read interest only while reading or lingering. A handshake watches what
    OpenSSL asks for, which the TLS transport adds."""
    write = EVENT_WRITE if queued else 0
    if state is HANDSHAKING:
        return Row(0, HANDSHAKE_TIMEOUT)
    if state is READING:
        # Waiting for the next request is not idleness while the last response still leaves: the
        # send timeout runs, and the keep-alive timeout starts with the last byte (nginx does the same).
        if queued and read_timeout is KEEPALIVE_TIMEOUT:
            return Row(EVENT_READ | write, SEND_TIMEOUT)
        return Row(EVENT_READ | write, read_timeout)
    if state is WAITING:
        return Row(write, SEND_TIMEOUT if queued else NO_TIMEOUT)
    if state is WRITING or state is CLOSING:
        return Row(write, SEND_TIMEOUT)
    if state is LINGERING:
        return Row(EVENT_READ, LINGER_TIMEOUT)
    return Row(0, NO_TIMEOUT)


# io_row for every (state, queued, read timeout): one lookup per settle.
IO_ROWS: dict[tuple[IOState, bool, Timeout], Row] = {
    (state, queued, read_timeout): io_row(state, queued, read_timeout)
    for state, queued, read_timeout in itertools.product(IOState, (False, True), READ_TIMEOUTS)
}


@functools.cache
def settled(
    state: IOState, reading: bool, queue: Fill, closing: bool, linger: bool, read_timeout: Timeout
) -> tuple[IOState, Row]:
    """Where ``next_state`` comes to rest from ``state`` with these inputs, and that state's row:
    what a settle of the transport ends in. Memoised: one lookup per settle."""
    while (moved := next_state(state, reading, queue, closing, linger)) is not state:
        state = moved
    return state, IO_ROWS[state, queue is not EMPTY, read_timeout]


IO_TRANSITIONS: dict[IOState, frozenset[IOState]] = {
    HANDSHAKING: frozenset({READING, CLOSING, CLOSED}),
    READING: frozenset({WAITING, WRITING, CLOSING, CLOSED}),
    WAITING: frozenset({READING, WRITING, CLOSING, CLOSED}),
    WRITING: frozenset({READING, WAITING, CLOSING, CLOSED}),
    CLOSING: frozenset({LINGERING, CLOSED}),
    LINGERING: frozenset({CLOSED}),
    CLOSED: frozenset(),
}
