"""Time as the reactor sees it: a monotonic clock for timers (replaceable in tests) and wall time for
the Date header, formatted at most once a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import formatdate

Clock = Callable[[], float]


class HttpDate:
    """The value of the Date header (RFC 9110 6.6.1), re-formatted only when the second changes."""

    __slots__ = ("_wall", "_second", "_value")

    def __init__(self, wall: Clock = time.time) -> None:
        self._wall = wall
        self._second = -1
        self._value = b""

    def __call__(self) -> bytes:
        now = self._wall()
        second = int(now)
        if second != self._second:
            self._second = second
            self._value = formatdate(second, usegmt=True).encode("ascii")
        return self._value
