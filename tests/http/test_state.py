"""The request/response cycle table."""

from __future__ import annotations

import pytest

from reactor.http.errors import StateError
from reactor.http.state import TRANSITIONS, Cycle, Phase, Transition

T = Transition


def run(*transitions: Transition, keep_alive: bool = True) -> Cycle:
    cycle = Cycle()
    if not keep_alive:
        cycle.disable_keep_alive()
    for transition in transitions:
        cycle.apply(transition)
    return cycle


def test_request_without_body_then_response_is_done() -> None:
    assert run(T.REQUEST_HEAD, T.RESPONSE_START, T.RESPONSE_END).phase is Phase.DONE


def test_request_with_body_then_response_is_done() -> None:
    cycle = run(T.REQUEST_HEAD_WITH_BODY, T.REQUEST_END, T.RESPONSE_START, T.RESPONSE_END)
    assert cycle.phase is Phase.DONE


def test_early_response_waits_for_the_body_before_done() -> None:
    cycle = run(T.REQUEST_HEAD_WITH_BODY, T.RESPONSE_START, T.RESPONSE_END)
    assert cycle.phase is Phase.DRAINING_BODY
    cycle.apply(T.REQUEST_END)
    assert cycle.phase is Phase.DONE


def test_done_without_keep_alive_is_must_close() -> None:
    assert run(T.REQUEST_HEAD, T.RESPONSE_START, T.RESPONSE_END, keep_alive=False).phase is Phase.MUST_CLOSE


def test_losing_keep_alive_when_done_turns_into_must_close() -> None:
    cycle = run(T.REQUEST_HEAD, T.RESPONSE_START, T.RESPONSE_END)
    cycle.disable_keep_alive()
    assert cycle.phase is Phase.MUST_CLOSE


def test_next_cycle_returns_to_idle() -> None:
    assert run(T.REQUEST_HEAD, T.RESPONSE_START, T.RESPONSE_END, T.NEXT_CYCLE).phase is Phase.IDLE


@pytest.mark.parametrize(
    "transitions",
    [
        (T.RESPONSE_START,),  # no request yet
        (T.REQUEST_HEAD, T.REQUEST_END),  # no body was announced
        (T.REQUEST_HEAD, T.RESPONSE_END),  # ending a response never started
        (T.REQUEST_HEAD, T.RESPONSE_START, T.RESPONSE_START),
        (T.REQUEST_HEAD, T.NEXT_CYCLE),
        (T.ERROR, T.NEXT_CYCLE),
    ],
)
def test_transitions_missing_from_the_table_raise_naming_the_phase(transitions: tuple[Transition, ...]) -> None:
    cycle = Cycle()
    with pytest.raises(StateError, match="phase"):
        for transition in transitions:
            cycle.apply(transition)


def test_error_from_every_phase_is_must_close() -> None:
    for phase in Phase:
        assert TRANSITIONS[(phase, T.ERROR)] is Phase.MUST_CLOSE


def test_every_phase_but_must_close_can_be_left() -> None:
    left = {phase for (phase, transition), _ in TRANSITIONS.items() if transition is not T.ERROR}
    assert left == set(Phase) - {Phase.MUST_CLOSE}
