"""The request/response cycle of one HTTP/1.1 connection, as a transition table.

A cycle starts IDLE, receives one request (head, then body) and sends one response. The two halves may
overlap: a server may answer before the request body is in (RFC 9112 9.3 permits it; RFC 9110 15.5.14
413 is the usual case), so the phases name both halves. When both are complete the cycle is DONE and,
if the connection persists, the next one starts. Anything that cannot continue ends in MUST_CLOSE.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from reactor.http.errors import StateError


class Phase(enum.Enum):
    # Members are singletons: hash them by identity, in C, not by name in Python (Enum's default).
    # The cycle looks phases up in dicts and sets several times per request.
    __hash__ = object.__hash__

    IDLE = "idle"  # waiting for a request head
    RECEIVING_BODY = "receiving body"  # head handed out, body arriving, no response yet
    HANDLING = "handling"  # request complete, the handler owes a response
    SENDING_RESPONSE = "sending response"  # response started, request complete
    SENDING_AND_RECEIVING = "sending and receiving"  # response started before the body ended
    DRAINING_BODY = "draining body"  # response complete, rest of the request body still to read
    DONE = "done"  # both halves complete
    MUST_CLOSE = "must close"  # the connection cannot carry another request


class Transition(enum.Enum):
    __hash__ = object.__hash__

    REQUEST_HEAD = "request head"  # a head without a body
    REQUEST_HEAD_WITH_BODY = "request head with body"
    REQUEST_END = "request end"
    RESPONSE_START = "response start"
    RESPONSE_END = "response end"
    NEXT_CYCLE = "next cycle"
    ERROR = "error"


P, T = Phase, Transition

TRANSITIONS: dict[tuple[Phase, Transition], Phase] = {
    (P.IDLE, T.REQUEST_HEAD): P.HANDLING,
    (P.IDLE, T.REQUEST_HEAD_WITH_BODY): P.RECEIVING_BODY,
    (P.RECEIVING_BODY, T.REQUEST_END): P.HANDLING,
    (P.RECEIVING_BODY, T.RESPONSE_START): P.SENDING_AND_RECEIVING,
    (P.HANDLING, T.RESPONSE_START): P.SENDING_RESPONSE,
    (P.SENDING_RESPONSE, T.RESPONSE_END): P.DONE,
    (P.SENDING_AND_RECEIVING, T.REQUEST_END): P.SENDING_RESPONSE,
    (P.SENDING_AND_RECEIVING, T.RESPONSE_END): P.DRAINING_BODY,
    (P.DRAINING_BODY, T.REQUEST_END): P.DONE,
    (P.DONE, T.NEXT_CYCLE): P.IDLE,
}
# A protocol error ends the connection from wherever it happens.
for _phase in Phase:
    TRANSITIONS[(_phase, T.ERROR)] = P.MUST_CLOSE

# Phases in which the request body is still being read, and in which no response has begun yet.
BODY_PHASES = frozenset({P.RECEIVING_BODY, P.SENDING_AND_RECEIVING, P.DRAINING_BODY})
BEFORE_RESPONSE_PHASES = frozenset({P.IDLE, P.RECEIVING_BODY, P.HANDLING})


class Cycle:
    """The phase of the current request/response cycle plus the keep-alive flag.

    Every change goes through ``apply``; an event the table does not list raises StateError naming
    the phase. Losing keep-alive turns DONE into MUST_CLOSE (the one rule outside the table).
    """

    __slots__ = ("phase", "keep_alive", "observer")

    def __init__(self) -> None:
        self.phase = Phase.IDLE
        self.keep_alive = True
        # Told (old phase, new phase, transition) after each change, for a trace; None costs nothing.
        self.observer: Callable[[Phase, Phase, Transition], object] | None = None

    def apply(self, transition: Transition) -> Phase:
        """Move to the phase the table gives for ``transition``; return it. Raises StateError."""
        try:
            phase = TRANSITIONS[(self.phase, transition)]
        except KeyError:
            raise StateError(f"{transition.value!r} is not allowed in phase {self.phase.value!r}") from None
        if phase is Phase.DONE and not self.keep_alive:
            phase = Phase.MUST_CLOSE
        if self.observer is not None:
            self.observer(self.phase, phase, transition)
        self.phase = phase
        return phase

    def disable_keep_alive(self) -> None:
        """This connection will close after the current response (RFC 9112 9.6)."""
        self.keep_alive = False
        if self.phase is Phase.DONE:
            self.phase = Phase.MUST_CLOSE

    @property
    def response_started(self) -> bool:
        return self.phase not in BEFORE_RESPONSE_PHASES

    def __repr__(self) -> str:
        return f"<Cycle {self.phase.value}{'' if self.keep_alive else ', closing'}>"
