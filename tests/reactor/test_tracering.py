"""The trace ring keeps the last facts by time and count, formats them as trace lines when read, and
passes each line on when asked to."""

from __future__ import annotations

import io

from reactor.trace.tracer import Tracer
from reactor.trace.tracering import TraceRing


def test_recent_lines_are_those_of_the_last_seconds_oldest_first() -> None:
    now = [10.0]
    ring = TraceRing(clock=lambda: now[0])
    for number in range(5):
        now[0] += 1.0
        ring.connection(number, "recv", f"bytes={number}")
    assert ring.recent(1.5) == ["   4.000000 #3    recv bytes=3\n", "   5.000000 #4    recv bytes=4\n"]
    assert len(ring.recent(100)) == 5
    now[0] += 1.0
    assert ring.recent(0.5) == []  # nothing in the last half second


def test_the_oldest_go_beyond_the_limit_and_each_line_is_forwarded_as_a_tracer_writes_it() -> None:
    forward, alone = io.StringIO(), io.StringIO()
    ring = TraceRing(max_lines=3, clock=lambda: 0.0, forward=forward)
    tracer = Tracer(alone, lambda: 0.0)
    for number in range(5):
        ring.connection(number, "recv", "bytes=1")
        tracer.connection(number, "recv", "bytes=1")
    assert [line.split()[1] for line in ring.recent(1)] == ["#2", "#3", "#4"]
    assert forward.getvalue() == alone.getvalue() and len(alone.getvalue().splitlines()) == 5
