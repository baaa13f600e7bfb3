"""An event loop running on a background thread, for tests of servers that are not HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from reactor.loop.eventloop import EventLoop

T = TypeVar("T")


class LoopThread:
    """Runs ``loop.run_forever`` on a daemon thread; ``call`` runs a function on the loop thread."""

    def __init__(self) -> None:
        self.loop = EventLoop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="reactor-test-loop", daemon=True)
        self._thread.start()

    def call(self, function: Callable[[], T], timeout: float = 10) -> T:
        """Run ``function`` on the loop thread and return its result (or raise its exception)."""
        done = threading.Event()
        outcome: list[T] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                outcome.append(function())
            except BaseException as error:
                errors.append(error)
            finally:
                done.set()

        self.loop.call_soon_threadsafe(run)
        assert done.wait(timeout), "the loop did not run the call in time"
        if errors:
            raise errors[0]
        return outcome[0]

    def stop(self, close: Callable[[], object] | None = None) -> None:
        """Run ``close`` on the loop, stop it, join the thread and close the loop."""
        if close is not None:
            self.loop.call_soon_threadsafe(close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        assert not self._thread.is_alive(), "the loop thread did not stop"
        self.loop.close()
