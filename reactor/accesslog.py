"""One line per response in the Common Log Format: host ident user [time] "request line" status bytes.

Lines are collected and written in batches, once a second or every 256 lines, rather than one write
per response: a write to stderr is a syscall on the loop thread, and it blocks the whole server while
the reader of a pipe lags. A line is therefore at most a second late.
"""

from __future__ import annotations

import time
from typing import TextIO

from reactor.clock import Clock
from reactor.loop import EventLoop

FLUSH_INTERVAL = 1.0
FLUSH_LINES = 256


class AccessLog:
    """Collects CLF lines for ``stream``; the timestamp is formatted at most once a second."""

    __slots__ = ("_stream", "_wall", "_second", "_stamp", "_lines")

    def __init__(self, stream: TextIO, wall: Clock = time.time) -> None:
        self._stream = stream
        self._wall = wall
        self._second = -1
        self._stamp = ""
        self._lines: list[str] = []

    def __call__(self, client: str, request_line: str, status: int, size: int) -> None:
        second = int(self._wall())
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(second))
        request_line = request_line.encode("unicode_escape").decode("ascii").replace('"', '\\"')
        self._lines.append(f'{client} - - [{self._stamp}] "{request_line}" {status} {size or "-"}\n')
        if len(self._lines) >= FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        """Write what was collected."""
        if self._lines:
            lines, self._lines = self._lines, []
            self._stream.write("".join(lines))
            self._stream.flush()

    def flush_every(self, loop: EventLoop, interval: float = FLUSH_INTERVAL) -> None:
        """Write what was collected every ``interval`` seconds, on ``loop``."""

        def tick() -> None:
            self.flush()
            loop.call_later(interval, tick)

        loop.call_later(interval, tick)
