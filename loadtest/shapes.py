"""Load shapes as plain functions of elapsed time, so they are tested without locust.

Each shape maps (settings, seconds since the start) to (users, spawn rate per second), or None when
the test is over. ``loadtest/locustfile.py`` wraps the one named by ``--shape`` in a LoadTestShape.

- constant: ``--users`` users, reached at ``--spawn-rate``, held for ``--run-time`` (locust's default).
- step: ``--steps`` equal steps up to ``--users``, each held for run-time / steps. Throughput grows
  with each step until the server saturates; from that step on latency climbs instead (the knee).
- soak: like constant, but every user starts a task at a fixed pace (``--pace``, one second unless
  given), so the request rate stays constant however the latency drifts: leaks and slow degradation
  show as a trend, not as a change of load.
- spike: a fifth of ``--users`` for the first 40 % of the time, all of them for the next 20 %
  (spawned within a second), then back to a fifth: does the server recover?
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_DURATION = 60.0  # seconds, for a shape that needs an end when no --run-time is given
SOAK_PACE = 1.0  # seconds between two task starts of one user in the soak shape


@dataclass(frozen=True)
class Settings:
    users: int
    spawn_rate: float
    duration: float | None  # None: until stopped
    steps: int = 6


Tick = tuple[int, float] | None


def constant(settings: Settings, elapsed: float) -> Tick:
    if settings.duration is not None and elapsed >= settings.duration:
        return None
    return settings.users, settings.spawn_rate


def step(settings: Settings, elapsed: float) -> Tick:
    duration = settings.duration or DEFAULT_DURATION
    if elapsed >= duration:
        return None
    steps = max(1, min(settings.steps, settings.users))
    index = min(steps, int(elapsed // (duration / steps)) + 1)  # 1-based step we are in
    users = math.ceil(settings.users * index / steps)
    return users, float(max(1, math.ceil(settings.users / steps)))  # each step reached within a second


def spike(settings: Settings, elapsed: float) -> Tick:
    duration = settings.duration or DEFAULT_DURATION
    if elapsed >= duration:
        return None
    base = max(1, settings.users // 5)
    if 0.4 * duration <= elapsed < 0.6 * duration:
        return settings.users, float(max(1, settings.users))
    return base, float(max(1, settings.users))


SHAPES: dict[str, Callable[[Settings, float], Tick]] = {
    "constant": constant,
    "step": step,
    "soak": constant,  # the soak differs by its pace (default_pace), not by its user count
    "spike": spike,
}


def default_pace(shape: str) -> float:
    """Seconds between task starts of one user when ``--pace`` is not given (0: back to back)."""
    return SOAK_PACE if shape == "soak" else 0.0


class Pacer:
    """Starts tasks on a fixed schedule, ``pace`` seconds apart: a late task shifts the schedule
    instead of being followed by a burst that catches up."""

    def __init__(self, pace: float, now: float) -> None:
        self.pace = pace
        self._next_start = now

    def delay(self, now: float) -> float:
        """Seconds to wait before the next task, given the time now."""
        if self.pace <= 0:
            return 0.0
        self._next_start = max(self._next_start + self.pace, now)
        return self._next_start - now
