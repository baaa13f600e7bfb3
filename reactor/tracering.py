"""The last seconds of the trace, kept in memory for the status page's timeline.

A ``TraceRing`` is the stream a Tracer writes to (one whole line per ``write``): it keeps each line
with the time it came, dropping the oldest beyond ``max_lines``, and passes it on to ``forward``
(stderr, when ``--trace`` is on too). It exists only while the status page is on: then every event
is traced, which costs the formatting of its line.
"""

from __future__ import annotations

import collections
import time
from typing import TextIO

from reactor.clock import Clock

# About 2 MB of lines, and few enough that drawing all of them (on the loop) takes a fraction of a second.
MAX_LINES = 20_000


class TraceRing:
    def __init__(
        self, max_lines: int = MAX_LINES, clock: Clock = time.monotonic, forward: TextIO | None = None
    ) -> None:
        self._lines: collections.deque[tuple[float, str]] = collections.deque(maxlen=max_lines)
        self._clock = clock
        self._forward = forward

    def write(self, text: str) -> int:
        self._lines.append((self._clock(), text))
        if self._forward is not None:
            self._forward.write(text)
        return len(text)

    def recent(self, seconds: float) -> list[str]:
        """The lines written in the last ``seconds``, oldest first."""
        since = self._clock() - seconds
        found: list[str] = []
        for when, text in reversed(self._lines):
            if when < since:
                break
            found.append(text)
        found.reverse()
        return found
