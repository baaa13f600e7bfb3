"""Worker threads made deterministic: the thread pools of the WSGI gateway and of the static
handler's background jobs (handlers/threadpool.py, handlers/background.py), replaced for a run by
pools whose threads run one at a time, each only when the world picks it.

A worker is a real thread, so an application blocks in it as it does in production (reading
wsgi.input, waiting for its last piece to drain). But it holds the baton while it runs: the loop
thread waits meanwhile, and gets the baton back when the job ends or when the worker waits on a
condition (handlers/wsgi/body.py and gateway.py build theirs with ``threading.Condition``, which a
run points at ``Lockstep.condition``). A notify makes the waiter runnable again; the world resumes it
at a moment the seed picks, as it picks a peer's next move. Which job runs when, and how far, is then
a pure function of the seed, and nothing ever runs at the same time as the loop.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import types
from collections.abc import Callable, Iterator
from unittest import mock

from handlers import background
from handlers.wsgi import body, gateway

STEP_TIMEOUT = 30.0  # seconds a worker may run before handing the baton back: more is a hang

Job = Callable[[], object]


class _Unwind(BaseException):
    """Raised in a worker parked for good when the run ends, so its thread can end."""


class Lockstep:
    """The worker threads of one run, and which of them may run now."""

    def __init__(self) -> None:
        self.pools: list[LockstepPool] = []
        self._by_thread: dict[int, Worker] = {}
        self.failures: list[str] = []  # jobs that raised out of the worker (a WorkerPool would log them)
        self.jobs_run = 0

    def pool(self, size: int, name: str = "wsgi") -> LockstepPool:
        """A WorkerPool of ``size`` threads (its signature): what the gateway and BackgroundJobs get."""
        if size < 1:
            raise ValueError("a worker pool needs at least one thread")
        pool = LockstepPool(self, size, name)
        self.pools.append(pool)
        return pool

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """While it lasts, the gateway's and the background jobs' WorkerPool are this one's pools,
        and the gateway's and wsgi.input's conditions this one's."""
        threading_here = types.SimpleNamespace(Condition=self.condition)
        with (
            mock.patch.object(gateway, "WorkerPool", self.pool),
            mock.patch.object(background, "WorkerPool", self.pool),
            mock.patch.object(gateway, "threading", threading_here),
            mock.patch.object(body, "threading", threading_here),
        ):
            yield

    def condition(self) -> LockstepCondition:
        """A threading.Condition whose wait hands the baton back to the loop."""
        return LockstepCondition(self)

    def current(self) -> Worker | None:
        """The worker running now, if the caller is one."""
        return self._by_thread.get(threading.get_ident())

    def runnable(self) -> list[Worker]:
        """The workers the world may resume now: each busy one that is not waiting, and in each pool
        with jobs queued, the first idle one (it takes the next job)."""
        found = []
        for pool in self.pools:
            idle = None
            for worker in pool.workers:
                if worker.job is None:
                    idle = idle or worker
                elif worker.waiting_on is None:
                    found.append(worker)
            if pool.jobs and idle is not None:
                found.append(idle)
        return found

    def waiting(self) -> list[Worker]:
        """The workers parked on a condition."""
        return [worker for pool in self.pools for worker in pool.workers if worker.waiting_on is not None]

    def queued(self) -> int:
        """Jobs submitted that no worker has begun."""
        return sum(len(pool.jobs) for pool in self.pools)

    def close(self) -> None:
        """End every thread: an idle one is told to stop, a parked one is unwound."""
        for pool in self.pools:
            for worker in pool.workers:
                worker.stop()
        self.pools.clear()

    def _started(self, worker: Worker) -> None:
        self._by_thread[threading.get_ident()] = worker


class LockstepPool:
    """Stands in for a WorkerPool: ``submit`` queues a job, which a worker begins when the world
    resumes it; ``close`` lets what is queued run, as WorkerPool.close does."""

    def __init__(self, lockstep: Lockstep, size: int, name: str) -> None:
        self.lockstep = lockstep
        self.size = size
        self.name = name
        self.jobs: collections.deque[Job] = collections.deque()
        self.workers = [Worker(self, number) for number in range(1, size + 1)]

    def __repr__(self) -> str:
        return f"<LockstepPool {self.name} threads={self.size} queued={len(self.jobs)}>"

    def submit(self, job: Job) -> None:
        self.jobs.append(job)

    def close(self) -> None:
        pass  # the jobs queued still run when the world resumes their workers; the run's end stops them


class Worker:
    """One thread of a pool. ``resume`` runs it until it waits, or its job ends."""

    def __init__(self, pool: LockstepPool, number: int) -> None:
        self.pool = pool
        self.name = f"{pool.name}-{number}"
        self.job: Job | None = None  # the job it runs, None when idle
        self.waiting_on: LockstepCondition | None = None
        self._thread: threading.Thread | None = None
        self._go = threading.Semaphore(0)  # the baton, handed to the worker
        self._back = threading.Semaphore(0)  # and handed back to the loop thread
        self._unwinding = False
        self._stopping = False

    def __repr__(self) -> str:
        state = "idle" if self.job is None else "waiting" if self.waiting_on is not None else "runnable"
        return f"<Worker {self.name} {state}>"

    def resume(self) -> None:
        """Loop thread: run this worker (taking its pool's next job if idle) until it hands the baton
        back. Raises RuntimeError when it does not within STEP_TIMEOUT."""
        if self.job is None:
            self.job = self.pool.jobs.popleft()
            self.pool.lockstep.jobs_run += 1
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name=f"sim-{self.name}", daemon=True)
            self._thread.start()
        self._go.release()
        if not self._back.acquire(timeout=STEP_TIMEOUT):
            raise RuntimeError(f"{self!r} ran {STEP_TIMEOUT} s without waiting or ending its job")

    def park(self, condition: LockstepCondition) -> None:
        """Worker thread: wait on ``condition`` until notified and resumed."""
        if self._unwinding:
            raise _Unwind
        self.waiting_on = condition
        self._back.release()
        self._go.acquire()
        if self._unwinding:
            raise _Unwind

    def stop(self) -> None:
        """Loop thread, at the run's end: let the thread end."""
        if self._thread is None:
            return
        if self.waiting_on is not None:
            self._unwinding = True
        else:
            self._stopping = True
        self._go.release()
        self._thread.join(STEP_TIMEOUT)
        self._thread = None

    def _main(self) -> None:
        self.pool.lockstep._started(self)
        while True:
            self._go.acquire()
            if self._stopping:
                return
            job = self.job
            assert job is not None
            try:
                job()
            except _Unwind:
                return
            except BaseException as error:  # a WorkerPool logs it and goes on: the checks report it
                self.pool.lockstep.failures.append(f"{self.name}: job {job!r} raised {error!r}")
            self.job = None
            if self._unwinding:  # the job caught the unwinding
                return
            self._back.release()


class LockstepCondition:
    """A threading.Condition for workers that run one at a time: no lock is needed (only the baton's
    holder runs), and ``wait`` parks the worker until a notify and the world's resume."""

    def __init__(self, lockstep: Lockstep) -> None:
        self._lockstep = lockstep
        self._waiters: list[Worker] = []

    def __enter__(self) -> bool:
        return True

    def __exit__(self, *exc: object) -> None:
        return None

    def wait(self, timeout: float | None = None) -> bool:
        worker = self._lockstep.current()
        if worker is None:
            raise RuntimeError("the loop thread would block on a condition")
        self._waiters.append(worker)
        worker.park(self)
        return True

    def notify(self, n: int = 1) -> None:
        for worker in self._waiters[:n]:
            worker.waiting_on = None
        del self._waiters[:n]

    def notify_all(self) -> None:
        self.notify(len(self._waiters))
