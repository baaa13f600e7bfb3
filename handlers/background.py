"""Blocking work of the static handler (gzip, fsync and rename) on threads of its own, so the loop
never waits for it; each result comes back to the loop thread through ``call_soon_threadsafe``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from handlers.threadpool import WorkerPool

if TYPE_CHECKING:
    from reactor.loop.eventloop import EventLoop

T = TypeVar("T")

# Two threads: one large compression does not hold up an upload's fsync behind it.
THREADS = 2


class BackgroundJobs:
    """A WorkerPool started on first use: a handler built only to check flags (handlers.flags), or in
    a supervisor before it forks, starts no threads."""

    def __init__(self, threads: int = THREADS) -> None:
        self._threads = threads
        self._pool: WorkerPool | None = None

    def run(self, loop: EventLoop, work: Callable[[], T], done: Callable[[T | None, Exception | None], object]) -> None:
        """Call ``work()`` on a worker thread, then ``done(result, None)`` or ``done(None, error)`` on
        ``loop``'s thread."""
        if self._pool is None:
            self._pool = WorkerPool(self._threads, "static")
        self._pool.submit(_Job(loop, work, done))

    def close(self) -> None:
        """Let the threads finish what is queued, then stop. Does not wait."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None


class _Job(Generic[T]):
    __slots__ = ("_loop", "_work", "_done")

    def __init__(
        self, loop: EventLoop, work: Callable[[], T], done: Callable[[T | None, Exception | None], object]
    ) -> None:
        self._loop = loop
        self._work = work
        self._done = done

    def __repr__(self) -> str:
        return f"<background job {self._work!r}>"

    def __call__(self) -> None:
        try:
            result = self._work()
        except Exception as error:
            self._loop.call_soon_threadsafe(self._done, None, error)
        else:
            self._loop.call_soon_threadsafe(self._done, result, None)
