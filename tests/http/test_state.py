"""The request/response cycle table."""

from __future__ import annotations

import pytest

from reactor.http.state import NEXT_PHASE, TRANSITIONS, Phase, Transition

T = Transition


def run(*transitions: Transition) -> Phase:
    """Walk the table from IDLE; a transition it does not list raises KeyError."""
    phase = Phase.IDLE
    for transition in transitions:
        phase = TRANSITIONS[(phase, transition)]
    return phase


def test_request_without_body_then_response_is_done() -> None:
    assert run(T.REQUEST_HEAD, T.RESPONSE_START, T.RESPONSE_END) is Phase.DONE


def test_request_with_body_then_response_is_done() -> None:
    assert run(T.REQUEST_HEAD_WITH_BODY, T.REQUEST_END, T.RESPONSE_START, T.RESPONSE_END) is Phase.DONE


def test_early_response_waits_for_the_body_before_done() -> None:
    assert run(T.REQUEST_HEAD_WITH_BODY, T.RESPONSE_START, T.RESPONSE_END) is Phase.DRAINING_BODY
    assert run(T.REQUEST_HEAD_WITH_BODY, T.RESPONSE_START, T.RESPONSE_END, T.REQUEST_END) is Phase.DONE


def test_a_done_cycle_either_starts_the_next_or_closes() -> None:
    assert run(T.REQUEST_HEAD, T.RESPONSE_START, T.RESPONSE_END, T.NEXT_CYCLE) is Phase.IDLE
    assert run(T.REQUEST_HEAD, T.RESPONSE_START, T.RESPONSE_END, T.CLOSE) is Phase.MUST_CLOSE


@pytest.mark.parametrize(
    "transitions",
    [
        (T.RESPONSE_START,),  # no request yet
        (T.REQUEST_HEAD, T.REQUEST_END),  # no body was announced
        (T.REQUEST_HEAD, T.RESPONSE_END),  # ending a response never started
        (T.REQUEST_HEAD, T.RESPONSE_START, T.RESPONSE_START),
        (T.REQUEST_HEAD, T.NEXT_CYCLE),
        (T.REQUEST_HEAD, T.CLOSE),  # only a complete cycle decides to close
        (T.ERROR, T.NEXT_CYCLE),
    ],
)
def test_transitions_missing_from_the_table(transitions: tuple[Transition, ...]) -> None:
    with pytest.raises(KeyError):
        run(*transitions)


def test_every_phase_but_must_close_can_be_left() -> None:
    left = {phase for (phase, transition), _ in TRANSITIONS.items() if transition is not T.ERROR}
    assert left == set(Phase) - {Phase.MUST_CLOSE}


def test_the_lookup_by_transition_is_the_table() -> None:
    for phase in Phase:
        for transition in Transition:
            assert NEXT_PHASE[transition].get(phase) is TRANSITIONS.get((phase, transition))
