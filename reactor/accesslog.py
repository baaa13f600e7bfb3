"""One line per response in the Common Log Format: host ident user [time] "request line" status bytes."""

from __future__ import annotations

import time
from typing import TextIO

from reactor.clock import Clock


class AccessLog:
    """Writes CLF lines to ``stream``; the timestamp is formatted at most once a second."""

    __slots__ = ("_stream", "_wall", "_second", "_stamp")

    def __init__(self, stream: TextIO, wall: Clock = time.time) -> None:
        self._stream = stream
        self._wall = wall
        self._second = -1
        self._stamp = ""

    def __call__(self, client: str, request_line: str, status: int, size: int) -> None:
        second = int(self._wall())
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(second))
        request_line = request_line.encode("unicode_escape").decode("ascii").replace('"', '\\"')
        self._stream.write(f'{client} - - [{self._stamp}] "{request_line}" {status} {size or "-"}\n')
