"""Load shapes as functions of time, and the pacer behind the soak's constant rate."""

from __future__ import annotations

import pytest

from loadtest.shapes import SHAPES, Pacer, Settings, constant, default_pace, spike, step


def test_constant_holds_the_users_until_the_run_time_is_over() -> None:
    settings = Settings(users=10, spawn_rate=5, duration=30)
    assert constant(settings, 0) == (10, 5)
    assert constant(settings, 29.9) == (10, 5)
    assert constant(settings, 30) is None
    assert constant(Settings(users=10, spawn_rate=5, duration=None), 1e6) == (10, 5)


def test_step_climbs_in_equal_steps_to_the_peak_then_ends() -> None:
    settings = Settings(users=60, spawn_rate=1, duration=60, steps=6)
    users = [tick[0] for second in range(60) if (tick := step(settings, second)) is not None]
    assert sorted(set(users)) == [10, 20, 30, 40, 50, 60]
    assert users == sorted(users)
    assert all(users.count(count) == 10 for count in set(users)), "each step lasts run-time / steps"
    assert step(settings, 60) is None


def test_step_never_has_more_steps_than_users() -> None:
    settings = Settings(users=3, spawn_rate=1, duration=60, steps=6)
    assert {tick[0] for second in range(60) if (tick := step(settings, second))} == {1, 2, 3}


def test_spike_jumps_to_the_peak_in_the_middle_and_comes_back() -> None:
    settings = Settings(users=50, spawn_rate=1, duration=100)
    assert spike(settings, 10) == (10, 50)
    assert spike(settings, 50) == (50, 50)
    assert spike(settings, 70) == (10, 50)
    assert spike(settings, 100) is None


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_ends_when_the_run_time_is_over(name: str) -> None:
    settings = Settings(users=20, spawn_rate=5, duration=10)
    assert SHAPES[name](settings, 0) is not None
    assert SHAPES[name](settings, 10) is None


def test_the_soak_is_paced_and_the_others_run_back_to_back() -> None:
    assert default_pace("soak") > 0
    assert default_pace("step") == default_pace("constant") == default_pace("spike") == 0


def test_a_pacer_starts_tasks_on_a_fixed_schedule() -> None:
    pacer = Pacer(1.0, now=100.0)
    assert pacer.delay(100.25) == pytest.approx(0.75)  # the first task took 0.25 s
    assert pacer.delay(101.5) == pytest.approx(0.5)


def test_a_late_task_shifts_the_schedule_instead_of_causing_a_burst() -> None:
    pacer = Pacer(1.0, now=0.0)
    assert pacer.delay(3.0) == 0  # the task took 3 s: start the next at once...
    assert pacer.delay(3.5) == pytest.approx(0.5)  # ...and keep one second from there, no catching up


def test_pace_zero_never_waits() -> None:
    assert Pacer(0.0, now=0.0).delay(5.0) == 0
