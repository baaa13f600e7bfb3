"""The last seconds of the trace, kept in memory for the status page's timeline.

A ``TraceRing`` is a Tracer that keeps each fact as it comes (time, subject, fact, detail), dropping
the oldest beyond ``max_lines``, and formats them into trace lines only when they are read: while
the status page is on every event is traced, and the formatting is most of a trace line's cost.
With ``forward`` (stderr, when ``--trace`` is on too) each line is also written there as usual.
"""

from __future__ import annotations

import collections
import io
import time
from typing import TextIO

from reactor.loop.clock import Clock
from reactor.trace.tracer import Tracer, format_line

# Few enough that drawing all of them (on the loop) takes about a tenth of a second.
MAX_LINES = 20_000


class TraceRing(Tracer):
    def __init__(
        self,
        max_lines: int = MAX_LINES,
        clock: Clock = time.monotonic,
        forward: TextIO | None = None,
        *,
        loop: bool = True,
        connections: bool = True,
    ) -> None:
        super().__init__(forward or io.StringIO(), clock, loop=loop, connections=connections)
        self._forward = forward is not None
        self._facts: collections.deque[tuple[float, str, str, str]] = collections.deque(maxlen=max_lines)

    def line(self, subject: str, fact: str, detail: str = "") -> None:
        self._facts.append((self._clock(), subject, fact, detail))
        if self._forward:
            super().line(subject, fact, detail)

    def recent(self, seconds: float) -> list[str]:
        """The lines of the last ``seconds``, oldest first."""
        since = self._clock() - seconds
        found: list[str] = []
        for when, subject, fact, detail in reversed(self._facts):
            if when < since:
                break
            found.append(format_line(when - self._start, subject, fact, detail))
        found.reverse()
        return found
