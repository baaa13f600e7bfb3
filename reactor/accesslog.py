"""One line per response in the Common Log Format: host ident user [time] "request line" status bytes.
The user is the one the request authenticated as (handlers/auth/basic.py), the bytes the body bytes that
really left (nginx's $body_bytes_sent): a line is written once the response's last byte is sent, or
its connection ended first.

Lines are collected and written in batches, a second after the first line of a batch or every 256
lines, rather than one write per response: a write to stderr is a syscall on the loop thread, and it
blocks the whole server while the reader of a pipe lags. A line is therefore at most a second late,
and while nothing is logged no timer is armed, so an idle server sleeps in select.
"""

from __future__ import annotations

import time
from typing import TextIO

from reactor.loop.clock import Clock
from reactor.loop.eventloop import EventLoop
from reactor.loop.timers import Handle

FLUSH_INTERVAL = 1.0
FLUSH_LINES = 256


class AccessLog:
    """Collects CLF lines for ``stream``; the timestamp is formatted at most once a second. Not
    ``batched``, each line is written as it comes: under ``--trace``, so that it stands among the trace
    lines where it happened."""

    __slots__ = ("_stream", "_wall", "_second", "_stamp", "_lines", "_loop", "_timer", "_batched")

    def __init__(self, stream: TextIO, wall: Clock = time.time, *, batched: bool = True) -> None:
        self._stream = stream
        self._batched = batched
        self._wall = wall
        self._second = -1
        self._stamp = ""
        self._lines: list[str] = []
        self._loop: EventLoop | None = None
        self._timer: Handle | None = None  # armed on the loop while lines wait

    def __call__(self, client: str, user: str, request_line: str, status: int, size: int) -> None:
        second = int(self._wall())
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(second))
        request_line = request_line.encode("unicode_escape").decode("ascii").replace('"', '\\"')
        lines = self._lines
        user = user.encode("unicode_escape").decode("ascii").replace(" ", "\\x20") if user != "-" else user
        lines.append(f'{client} - {user} [{self._stamp}] "{request_line}" {status} {size or "-"}\n')
        if len(lines) >= FLUSH_LINES or not self._batched:
            self.flush()
        elif self._timer is None and self._loop is not None:
            self._timer = self._loop.call_later(FLUSH_INTERVAL, self._flush_on_time)

    def flush(self) -> None:
        """Write what was collected."""
        if self._lines:
            lines, self._lines = self._lines, []
            self._stream.write("".join(lines))
            self._stream.flush()

    def flush_on(self, loop: EventLoop) -> None:
        """Have ``loop`` write what was collected at most FLUSH_INTERVAL seconds after it was logged."""
        self._loop = loop

    def _flush_on_time(self) -> None:
        self._timer = None
        self.flush()
