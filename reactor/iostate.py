"""A connection's I/O states as data: what each state reads, writes and times, and how one state leads
to the next.

``IO_STATES`` says, for each state, whether the socket is watched for reads, whether it is watched for
writes while bytes are queued, and which timeout runs (with bytes queued, and without). ``next_state``
is the whole rule for moving between states, a pure function of where the transport is and what it
holds; ``IO_TRANSITIONS`` lists the moves it and the transport's one exit (``abort``) can make, and
anything else is a bug the transport raises for. The Transport (transport.py) is the only user.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
    """What a connection's one timer waits for. The durations are Limits fields (limits.py)."""

    __hash__ = object.__hash__

    NONE = "none"
    READ = "read"  # in the table only: whichever read timeout the protocol asked for, one of the next three
    HEAD = "head"  # a whole request head, however slowly it trickles in (slowloris): progress does not extend it
    KEEP_ALIVE = "keep-alive"  # idle between requests
    BODY = "body"  # between two reads of a request body
    SEND = "send"  # between two sends that moved data
    LINGER = "linger"  # between two reads while lingering, within the whole lingering time
    HANDSHAKE = "handshake"  # a whole TLS handshake, however slowly it trickles in: progress does not extend it


# The members as module names, for the code that runs on every request: on CPython 3.11 each
# ``IOState.READING`` is a lookup through EnumType.__getattr__ (gone in 3.12) that costs ten times a
# global's, and such lookups were 13 % of a cached request's instructions.
HANDSHAKING, READING, WAITING, WRITING, CLOSING, LINGERING, CLOSED = IOState
NONE, READ, HEAD, KEEP_ALIVE, BODY, SEND, LINGER, HANDSHAKE = Timeout

# Progress that starts a running timeout again: bytes read, or bytes sent.
RESTARTED_BY_READ = frozenset({Timeout.KEEP_ALIVE, Timeout.BODY, Timeout.LINGER})
RESTARTED_BY_SEND = frozenset({Timeout.SEND})
# A read timeout asked for while bytes are still queued, and what runs instead until they are out:
# waiting for the next request is not idleness while the last response still leaves, so the send
# timeout runs and the keep-alive timeout starts with the last byte (nginx does the same).
READ_TIMEOUT_WHILE_QUEUED = {Timeout.KEEP_ALIVE: Timeout.SEND}


@dataclass(frozen=True, slots=True)
class Behaviour:
    reads: bool  # the socket is watched for reads
    writes: bool  # the socket is watched for writes while bytes are queued
    timeout: Timeout  # the timer while bytes are queued
    idle_timeout: Timeout  # the timer while nothing is queued


S, T = IOState, Timeout
IO_STATES: dict[IOState, Behaviour] = {
    # Neither reads nor writes: the TLS transport watches what the handshake asks for, and only that
    # (read interest while it waits to write would spin on bytes it does not read yet).
    S.HANDSHAKING: Behaviour(reads=False, writes=False, timeout=T.HANDSHAKE, idle_timeout=T.HANDSHAKE),
    S.READING: Behaviour(reads=True, writes=True, timeout=T.READ, idle_timeout=T.READ),
    S.WAITING: Behaviour(reads=False, writes=True, timeout=T.SEND, idle_timeout=T.NONE),
    S.WRITING: Behaviour(reads=False, writes=True, timeout=T.SEND, idle_timeout=T.SEND),
    S.CLOSING: Behaviour(reads=False, writes=True, timeout=T.SEND, idle_timeout=T.SEND),
    S.LINGERING: Behaviour(reads=True, writes=False, timeout=T.LINGER, idle_timeout=T.LINGER),
    S.CLOSED: Behaviour(reads=False, writes=False, timeout=T.NONE, idle_timeout=T.NONE),
}

IO_TRANSITIONS: dict[IOState, frozenset[IOState]] = {
    S.HANDSHAKING: frozenset({S.READING, S.CLOSING, S.CLOSED}),
    S.READING: frozenset({S.WAITING, S.WRITING, S.CLOSING, S.CLOSED}),
    S.WAITING: frozenset({S.READING, S.WRITING, S.CLOSING, S.CLOSED}),
    S.WRITING: frozenset({S.READING, S.WAITING, S.CLOSING, S.CLOSED}),
    S.CLOSING: frozenset({S.LINGERING, S.CLOSED}),
    S.LINGERING: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}


def next_state(
    state: IOState,
    *,
    reading: bool,
    queued: int,
    closing: bool,
    linger: bool,
    high_water: int,
    low_water: int,
) -> IOState:
    """The state a transport in ``state`` moves to: ``reading``, the protocol wants bytes (and the
    peer has not ended its side); ``queued``, the bytes waiting to be sent; ``closing``, a close was
    asked for now (a transport already closing goes on closing); ``linger``, the peer may still be
    sending when our last byte is out. Backpressure has hysteresis: above ``high_water`` reading
    stops, and it starts again at ``low_water``. Returns ``state`` itself when nothing moves; only
    the peer or a timer ends LINGERING, and only its end (the TLS transport's move to READING), a
    close or a timer ends HANDSHAKING."""
    if state is LINGERING or state is CLOSED:
        return state
    if state is HANDSHAKING and not closing:
        return state
    if closing or state is CLOSING:  # once closing, always closing
        if state is not CLOSING or queued:
            return CLOSING
        return LINGERING if linger else CLOSED
    if queued > (low_water if state is WRITING else high_water):
        return WRITING
    return READING if reading else WAITING


# next_state with nothing queued (the water marks then decide nothing), by (state, reading, closing,
# linger): what a transport asks after every send that emptied its queue, answered by one lookup.
NEXT_STATE_WHEN_EMPTY: dict[tuple[IOState, bool, bool, bool], IOState] = {
    (state, reading, closing, linger): next_state(
        state, reading=reading, queued=0, closing=closing, linger=linger, high_water=0, low_water=0
    )
    for state in IOState
    for reading in (False, True)
    for closing in (False, True)
    for linger in (False, True)
}
