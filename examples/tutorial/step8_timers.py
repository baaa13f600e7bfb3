"""Chapter 8: timers, so that a client that says nothing cannot hold a connection for ever.

A timer heap holds ``(when, sequence, timer)``; the loop's ``select`` waits at most until the
nearest one, and after each select the due timers run. Waiting is never a fixed polling interval:
with no timer armed, select waits for I/O alone. Cancelling marks the timer; the heap drops it
when it reaches the top (cheaper than removing it from the middle).

Each connection has one timer, pointed at what it waits for:

- **the next request**: it must arrive whole within ``--request-timeout`` of the connection opening
  or of the last answer. Bytes that trickle in do not extend it, or a client sending one byte a
  second (slowloris) would hold the connection for ever. This also ends idle keep-alive
  connections.
- **the peer to take queued bytes**: restarted each time a send moves data, so a slow reader is
  served and a reader that stopped is closed.

The clock is injected (``Timers(clock)``), so the heap is tested with a fake clock, without waiting.

    python3 -m examples.tutorial.step8_timers --request-timeout 5 8000
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from examples.tutorial import step4_states, step7_backpressure
from examples.tutorial.listen import Parser, listening_socket, log, seconds
from examples.tutorial.step4_states import State


class Timer:
    __slots__ = ("when", "callback", "args", "cancelled")

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Timer]] = []
        self._sequence = itertools.count()  # equal times run in the order they were set

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Timer:
        timer = Timer(self.clock() + delay, callback, args)
        heapq.heappush(self._heap, (timer.when, next(self._sequence), timer))
        return timer

    def timeout(self) -> float | None:
        """How long select may wait: until the nearest live timer, or None (for ever) with none."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return max(0.0, heap[0][0] - self.clock()) if heap else None

    def run_due(self) -> int:
        """Run the timers whose time has come; return how many ran."""
        now, heap, ran = self.clock(), self._heap, 0
        while heap and heap[0][0] <= now:
            timer = heapq.heappop(heap)[2]
            if not timer.cancelled:
                ran += 1
                timer.callback(*timer.args)
        return ran

    def __len__(self) -> int:
        return len(self._heap)


class Connection(step7_backpressure.Connection):
    server: Server

    def __init__(self, server: step4_states.Server, sock: socket.socket, address: tuple[str, int]) -> None:
        self.timer: Timer | None = None
        self.waiting_for = ""  # "request N", "send" or "" (nothing timed)
        super().__init__(server, sock, address)
        self.settle()  # the first request's time starts now

    def settle(self) -> None:
        super().settle()
        if self.state is State.CLOSED:
            return
        if self.outgoing:
            waiting_for = "send"
        elif self.state is State.READING:
            waiting_for = f"request {self.requests + 1}"  # so each answer starts the next one's time
        else:
            waiting_for = ""
        if waiting_for != self.waiting_for:  # a new wait, a new timer; the same wait keeps its timer
            self.arm(waiting_for)

    def arm(self, waiting_for: str) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.waiting_for = waiting_for
        if waiting_for:
            send = waiting_for == "send"
            delay = self.server.send_timeout if send else self.server.request_timeout
            self.timer = self.server.timers.call_later(delay, self.timed_out)

    def sent(self, count: int) -> None:
        if count and self.waiting_for == "send":
            self.arm("send")  # progress: the peer is reading, give it the whole time again

    def timed_out(self) -> None:
        log(f"{self.name} timeout {self.waiting_for}")
        self.timer = None
        self.close()

    def close(self) -> None:
        self.arm("")  # nothing is awaited any more
        super().close()


class Server(step7_backpressure.Server):
    connection_class = Connection

    def __init__(
        self,
        listener: socket.socket,
        request_timeout: float = 5.0,
        send_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(listener)
        self.timers = Timers(clock)  # a test passes a fake clock and runs the loop without waiting
        self.request_timeout = request_timeout
        self.send_timeout = send_timeout

    def run(self) -> None:
        while True:
            self.run_once(self.timers.timeout())  # wait for I/O or the nearest timer, no longer
            self.timers.run_due()


def timeout_arguments() -> argparse.ArgumentParser:
    parser = Parser()
    parser.add_argument("--request-timeout", type=seconds, default=5.0, metavar="SECONDS", help="(default: 5)")
    parser.add_argument("--send-timeout", type=seconds, default=10.0, metavar="SECONDS", help="(default: 10)")
    return parser


def main(argv: list[str] | None = None) -> int:
    listener, args = listening_socket(argv, "Chapter 8: timers for timeouts.", timeout_arguments())
    Server(listener, args.request_timeout, args.send_timeout).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
