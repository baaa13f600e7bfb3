"""The trace format: stable, one fact per line, parseable."""

from __future__ import annotations

import io
import re

from reactor.loop.eventloop import EventLoop
from reactor.testing import FakeClock, tick
from reactor.trace.tracer import Tracer

LINE = re.compile(r" *\d+\.\d{6} (loop |#\d+ *) ?[a-z]+( .*)?")


def test_lines_carry_elapsed_time_subject_fact_and_details() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    tracer = Tracer(stream, clock)
    clock.advance(1.5)
    tracer.connection(12, "recv", "bytes=78")
    tracer.select(0.25, [(7, 1), (9, 2), (11, 3)])
    tracer.ran(1, 3)
    tracer.ran(0, 0)  # nothing ran: nothing to say
    assert stream.getvalue().splitlines() == [
        "   1.500000 #12   recv bytes=78",
        "   1.500000 loop  select waited=0.250000s ready=3 fds=7:R,9:W,11:RW",
        "   1.500000 loop  ran timers=1 callbacks=3",
    ]


def test_the_loop_traces_each_iteration() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    loop = EventLoop(clock=clock, tracer=Tracer(stream, clock))
    loop.call_later(1, lambda: None)
    clock.advance(1)
    tick(loop)
    lines = stream.getvalue().splitlines()
    assert lines[0].split()[1:3] == ["loop", "select"]
    assert lines[1].endswith("ran timers=1 callbacks=2")
    assert all(LINE.fullmatch(line) for line in lines), lines
    loop.close()


def test_a_tracer_narrowed_to_connections_leaves_the_loop_silent() -> None:
    stream = io.StringIO()
    loop = EventLoop(clock=FakeClock(), tracer=Tracer(stream, loop=False))
    tick(loop)
    assert stream.getvalue() == ""
    loop.close()
