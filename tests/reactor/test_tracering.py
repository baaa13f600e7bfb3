"""The trace ring keeps the last lines by time and count, and passes each on when asked to."""

from __future__ import annotations

import io

from reactor.trace import Tracer
from reactor.tracering import TraceRing


def test_recent_lines_are_those_of_the_last_seconds_oldest_first() -> None:
    now = [10.0]
    ring = TraceRing(clock=lambda: now[0])
    for number in range(5):
        ring.write(f"line {number}\n")
        now[0] += 1.0
    assert ring.recent(2.5) == ["line 3\n", "line 4\n"]
    assert ring.recent(100) == [f"line {number}\n" for number in range(5)]
    assert ring.recent(0.5) == []


def test_the_oldest_lines_go_beyond_the_limit_and_each_is_forwarded() -> None:
    forward = io.StringIO()
    ring = TraceRing(max_lines=3, clock=lambda: 0.0, forward=forward)
    tracer = Tracer(ring, lambda: 0.0)
    for number in range(5):
        tracer.connection(number, "recv", "bytes=1")
    assert [line.split()[1] for line in ring.recent(1)] == ["#2", "#3", "#4"]
    assert len(forward.getvalue().splitlines()) == 5
