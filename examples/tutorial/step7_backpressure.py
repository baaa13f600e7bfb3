"""Chapter 7: backpressure by water marks: a client that does not read is not read from either.

Chapter 6 reads and answers pipelined requests while earlier answers drain, so a client that sends
requests and never reads the answers decides how much of our memory they take: every answer waits in
the queue. Here, when the queue passes the *high-water mark* (64 KiB) the connection enters WRITING
and stops reading: its next requests wait in the parser and in the kernel, and TCP's flow control
slows the client down. When the queue has drained to the *low-water mark* (16 KiB) it reads again.
Two marks, not one, so it does not flip between the states on every send.

Only ``next_state`` changes (and two log lines say when reading pauses and resumes).

    python3 -m examples.tutorial.step7_backpressure 8000
"""

from __future__ import annotations

import sys

from examples.tutorial import step6_writequeue
from examples.tutorial.listen import listening_socket, log
from examples.tutorial.step4_states import State

HIGH_WATER = 64 * 1024  # asyncio's defaults
LOW_WATER = 16 * 1024


def next_state(state: State, queued: int, keep_alive: bool) -> State:
    """Where a connection in ``state`` goes with ``queued`` bytes waiting."""
    if not keep_alive:
        return State.WRITING if queued else State.CLOSED  # the last answer leaves, then close
    if queued > (LOW_WATER if state is State.WRITING else HIGH_WATER):
        return State.WRITING
    return State.READING


class Connection(step6_writequeue.Connection):
    def next_state(self) -> State:
        return next_state(self.state, self.outgoing.size, self.keep_alive)

    def set_state(self, new: State) -> None:
        old = self.state
        super().set_state(new)
        if new is State.WRITING and self.keep_alive:
            log(f"{self.name} pause reading: queued={self.outgoing.size} > {HIGH_WATER}")
        elif old is State.WRITING and new is State.READING:
            log(f"{self.name} resume reading: queued={self.outgoing.size} <= {LOW_WATER}")


class Server(step6_writequeue.Server):
    connection_class = Connection


def main(argv: list[str] | None = None) -> int:
    listener, _ = listening_socket(argv, "Chapter 7: backpressure by water marks.")
    Server(listener).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
