"""The request/response cycle of one HTTP/1.1 connection, as a transition table (the ServerConnection in
serverconnection.py is its one user: its ``_apply`` is the only place a phase changes).

A cycle starts IDLE, receives one request (head, then body) and sends one response. The two halves may
overlap: a server may answer before the request body is in (RFC 9112 9.3 permits it; RFC 9110 15.5.14
413 is the usual case), so the phases name both halves. When both are complete the cycle is DONE and,
if the connection persists, the next one starts; if not, CLOSE leads to MUST_CLOSE, where anything that
cannot continue ends too.
"""

from __future__ import annotations

import enum


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
    CLOSE = "close"  # the connection does not persist after this cycle (RFC 9112 9.6)
    ERROR = "error"


# The members as module names, for the code that runs on every request: on CPython 3.11 each
# ``Phase.IDLE`` is a lookup through EnumType.__getattr__ (gone in 3.12) that costs ten times a
# global's (see iostate.py).
IDLE = Phase.IDLE
RECEIVING_BODY = Phase.RECEIVING_BODY
HANDLING = Phase.HANDLING
SENDING_RESPONSE = Phase.SENDING_RESPONSE
SENDING_AND_RECEIVING = Phase.SENDING_AND_RECEIVING
DRAINING_BODY = Phase.DRAINING_BODY
DONE = Phase.DONE
MUST_CLOSE = Phase.MUST_CLOSE
REQUEST_HEAD = Transition.REQUEST_HEAD
REQUEST_HEAD_WITH_BODY = Transition.REQUEST_HEAD_WITH_BODY
REQUEST_END = Transition.REQUEST_END
RESPONSE_START = Transition.RESPONSE_START
RESPONSE_END = Transition.RESPONSE_END
NEXT_CYCLE = Transition.NEXT_CYCLE
CLOSE = Transition.CLOSE
ERROR = Transition.ERROR

TRANSITIONS: dict[tuple[Phase, Transition], Phase] = {
    (IDLE, REQUEST_HEAD): HANDLING,
    (IDLE, REQUEST_HEAD_WITH_BODY): RECEIVING_BODY,
    (RECEIVING_BODY, REQUEST_END): HANDLING,
    (RECEIVING_BODY, RESPONSE_START): SENDING_AND_RECEIVING,
    (HANDLING, RESPONSE_START): SENDING_RESPONSE,
    (SENDING_RESPONSE, RESPONSE_END): DONE,
    (SENDING_AND_RECEIVING, REQUEST_END): SENDING_RESPONSE,
    (SENDING_AND_RECEIVING, RESPONSE_END): DRAINING_BODY,
    (DRAINING_BODY, REQUEST_END): DONE,
    (DONE, NEXT_CYCLE): IDLE,
    (DONE, CLOSE): MUST_CLOSE,
}
# A protocol error ends the connection from wherever it happens.
for _phase in Phase:
    TRANSITIONS[(_phase, ERROR)] = MUST_CLOSE

# The same table by transition, then phase: the cycle's lookup on every move, without a key to build.
NEXT_PHASE: dict[Transition, dict[Phase, Phase]] = {transition: {} for transition in Transition}
for (_phase, _transition), _next in TRANSITIONS.items():
    NEXT_PHASE[_transition][_phase] = _next

# Phases in which the request body is still being read.
BODY_PHASES = frozenset({RECEIVING_BODY, SENDING_AND_RECEIVING, DRAINING_BODY})
