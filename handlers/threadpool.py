"""A fixed set of threads that run blocking jobs (WSGI applications) away from the loop."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

Job = Callable[[], object]


class WorkerPool:
    """``size`` threads taking jobs from one queue, in order.

    Jobs wait in the queue while every thread is busy; the queue holds at most one job per open
    connection (a connection hands out one request at a time), so the connection limit bounds it.
    The threads are daemons: an application stuck in a call cannot keep the process alive after
    the server has stopped (concurrent.futures' threads are joined at exit, which would hang).
    """

    def __init__(self, size: int, name: str = "wsgi") -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one thread")
        self.size = size
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{number}", daemon=True) for number in range(1, size + 1)
        ]
        for thread in self._threads:
            thread.start()

    def __repr__(self) -> str:
        return f"<WorkerPool threads={self.size} queued={self._jobs.qsize()}>"

    def submit(self, job: Job) -> None:
        """Run ``job()`` on a worker thread. Any thread may call this."""
        self._jobs.put(job)

    def close(self) -> None:
        """Let every thread finish its current job and what is queued, then stop. Does not wait."""
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except BaseException:
                # Jobs handle their own errors; this keeps the thread alive if one does not.
                logger.exception("worker job %r failed", job)
