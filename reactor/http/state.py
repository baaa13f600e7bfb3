"""The request/response cycle of one HTTP/1.1 connection, as a transition table (the ServerConnection in
connection.py is its one user: its ``_apply`` is the only place a phase changes).

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
IDLE, RECEIVING_BODY, HANDLING, SENDING_RESPONSE, SENDING_AND_RECEIVING, DRAINING_BODY, DONE, MUST_CLOSE = Phase
REQUEST_HEAD, REQUEST_HEAD_WITH_BODY, REQUEST_END, RESPONSE_START, RESPONSE_END, NEXT_CYCLE, CLOSE, ERROR = Transition

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
    (P.DONE, T.CLOSE): P.MUST_CLOSE,
}
# A protocol error ends the connection from wherever it happens.
for _phase in Phase:
    TRANSITIONS[(_phase, T.ERROR)] = P.MUST_CLOSE

# The same table by transition, then phase: the cycle's lookup on every move, without a key to build.
NEXT_PHASE: dict[Transition, dict[Phase, Phase]] = {transition: {} for transition in Transition}
for (_phase, _transition), _next in TRANSITIONS.items():
    NEXT_PHASE[_transition][_phase] = _next

# Phases in which the request body is still being read.
BODY_PHASES = frozenset({P.RECEIVING_BODY, P.SENDING_AND_RECEIVING, P.DRAINING_BODY})
