"""``--trace``: what the reactor does, one fact per line on stderr, for people learning how it works.

Every line is ``<seconds since start> <subject> <fact> [key=value ...]``; the subject is ``loop`` for
the event loop and ``#N`` for connection N. The format is stable: tests and scripts may parse it.
When tracing is off the loop and the connections hold None instead of a tracer and test for it once
per iteration or event, so the cost of being able to trace is a comparison.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TextIO

from reactor.loop.clock import Clock

READ, WRITE = 1, 2  # selectors.EVENT_READ, selectors.EVENT_WRITE
_EVENT_NAMES = {READ: "R", WRITE: "W", READ | WRITE: "RW"}


def format_line(elapsed: float, subject: str, fact: str, detail: str) -> str:
    """One trace line, newline included."""
    return f"{elapsed:11.6f} {subject:<5} {fact}{' ' + detail if detail else ''}\n"


class Tracer:
    """Formats and writes trace lines; ``loop`` and ``connections`` say which subjects are traced."""

    def __init__(
        self, stream: TextIO, clock: Clock = time.monotonic, *, loop: bool = True, connections: bool = True
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._start = clock()
        self.loop = loop
        self.connections = connections

    def line(self, subject: str, fact: str, detail: str = "") -> None:
        self._stream.write(format_line(self._clock() - self._start, subject, fact, detail))

    def select(self, waited: float, ready: Sequence[tuple[int, int]]) -> None:
        """One pass through select: how long it waited and which descriptors became ready for what."""
        fds = ",".join(f"{fd}:{_EVENT_NAMES.get(events, '?')}" for fd, events in ready)
        self.line("loop", "select", f"waited={waited:.6f}s ready={len(ready)}" + (f" fds={fds}" if fds else ""))

    def ran(self, timers: int, callbacks: int) -> None:
        """What else the iteration ran: due timers and ready callbacks (timers included)."""
        if timers or callbacks:
            self.line("loop", "ran", f"timers={timers} callbacks={callbacks}")

    def connection(self, ident: int, fact: str, detail: str = "") -> None:
        self.line(f"#{ident}", fact, detail)
