"""``--workers N``: a supervisor that forks N single-threaded reactors sharing one port.

Each worker is the same reactor as a single-process server. Where the platform has SO_REUSEPORT, each
worker listens on its own socket and the kernel spreads new connections among them; the supervisor
only holds the port (bound, not listening). Elsewhere the workers share the supervisor's listening
socket, inherited across fork. The supervisor restarts a worker that dies and turns SIGTERM and
SIGINT into one SIGTERM for each worker, so a drain is the workers' own graceful shutdown. Workers
ignore SIGINT: a terminal sends Ctrl-C to its whole foreground process group, and a worker that got it
directly and again from the supervisor would take the second for "close everything now".

With ``--status-path`` the workers show the whole server: each leaves its numbers on a
``StatisticsBoard``, memory the supervisor maps before it forks, and the worker that answers a status
request reads every worker's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mmap
import os
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
import zlib
from collections.abc import Callable
from typing import Any

from reactor.loop.eventloop import EventLoop

logger = logging.getLogger(__name__)

# A worker that dies this soon after starting is failing, not crashing once: restart it after a pause
# instead of forking in a tight loop.
_MIN_LIFETIME = 1.0
_RESTART_PAUSE = 1.0
# After the grace period, workers still running are killed.
_KILL_AFTER_GRACE = 5.0

RunWorker = Callable[[int, int], int]  # (worker number, lifeline: see watch_supervisor) -> exit code


def parse_worker_count(text: str) -> int:
    """``auto`` is the number of CPUs this process may run on. Raises ValueError for anything else
    that is not a positive integer."""
    if text == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    count = int(text, 10)
    if count < 1:
        raise ValueError("the number of workers must be at least 1")
    return count


def shares_port_by_reuseport() -> bool:
    return hasattr(socket, "SO_REUSEPORT") and sys.platform.startswith("linux")


class Supervisor:
    """Keeps ``count`` workers running ``run_worker(number)`` until a signal asks them to stop."""

    def __init__(self, count: int, run_worker: RunWorker, grace: float) -> None:
        self.count = count
        self._run_worker = run_worker
        self._grace = grace
        self._loop = EventLoop()
        self._workers: dict[int, tuple[int, float]] = {}  # pid -> (worker number, start time)
        self._stopping: int | None = None  # the signal that asked us to stop
        # Only this process keeps the write end: when it exits, even by SIGKILL, the read end reaches
        # end of file in every worker (watch_supervisor).
        self._lifeline_read, self._lifeline_write = os.pipe()

    def run(self, started: Callable[[], object] | None = None) -> int:
        """Fork the workers and supervise them; return the exit code once all have stopped. Call
        ``started()`` in the supervisor once the workers are forked (a thread it starts is not
        copied into them)."""
        loop = self._loop
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_stop_signal, signum)
        loop.add_signal_handler(signal.SIGCHLD, self._reap)
        for number in range(1, self.count + 1):
            self._spawn(number)
        if started is not None:
            started()
        try:
            loop.run_forever()
        finally:
            loop.close()
            os.close(self._lifeline_read)
            os.close(self._lifeline_write)
        return 0

    def _spawn(self, number: int) -> None:
        if self._stopping is not None:
            return
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                self._loop.close()  # the child gets fresh signal handling from its own loop
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the supervisor's to forward
                os.close(self._lifeline_write)
                code = self._run_worker(number, self._lifeline_read)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        self._workers[pid] = (number, time.monotonic())
        logger.info("worker %d started (pid %d)", number, pid)

    def _reap(self) -> None:
        while self._workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            entry = self._workers.pop(pid, None)
            if entry is None:
                continue
            number, started = entry
            if self._stopping is not None:
                logger.info("worker %d (pid %d) stopped", number, pid)
                continue
            lived = time.monotonic() - started
            logger.warning("worker %d (pid %d) %s; restarting it", number, pid, _describe(status))
            if lived < _MIN_LIFETIME:
                self._loop.call_later(_RESTART_PAUSE, self._spawn, number)
            else:
                self._spawn(number)
        if self._stopping is not None and not self._workers:
            self._loop.stop()

    def _on_stop_signal(self, signum: int) -> None:
        first = self._stopping is None
        self._stopping = signum
        for pid in self._workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # a second one makes the workers close everything at once
        if first:
            self._loop.call_later(self._grace + _KILL_AFTER_GRACE, self._kill_stragglers)
        if not self._workers:
            self._loop.stop()

    def _kill_stragglers(self) -> None:
        for pid in self._workers:
            logger.warning("worker pid %d did not stop within the grace period; killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class StatisticsBoard:
    """Where the workers of one supervisor leave their numbers for each other: a JSON document per
    worker in memory shared across the fork (an anonymous MAP_SHARED mapping, made before it).

    Each worker writes only its own slot; any worker reads them all, without a lock a dead worker could
    hold. A slot has two copies, each a header (sequence number, length, CRC-32) and the document: a
    write goes to the older copy, its header last, so the newer one stays whole while it runs, and a
    read takes the newest copy whose checksum matches (a copy caught mid-write does not).
    """

    COPY = 64 * 1024  # bytes per copy: a worker's document is about 2 KiB
    _HEADER = struct.Struct("<QII")  # sequence, length, crc32
    _READ_TRIES = 3  # both copies torn means two writes during one read: try again, then skip the worker

    def __init__(self, count: int) -> None:
        self.count = count
        self._memory = mmap.mmap(-1, count * 2 * self.COPY)

    def publish(self, number: int, document: dict[str, Any]) -> None:
        """Leave ``document`` (JSON-serialisable) as worker ``number``'s (1 to count). Raises
        ValueError for a document larger than a copy."""
        data = json.dumps(document, separators=(",", ":")).encode()
        if len(data) > self.COPY - self._HEADER.size:
            raise ValueError(f"a worker's statistics take {len(data)} bytes, more than the board's {self.COPY}")
        copies = [self._offset(number, copy) for copy in (0, 1)]
        sequences = [self._HEADER.unpack_from(self._memory, offset)[0] for offset in copies]
        # The older copy; the sequence goes on from the slot, so a restarted worker's documents are newer.
        offset = copies[sequences.index(min(sequences))]
        start = offset + self._HEADER.size
        self._memory[start : start + len(data)] = data
        self._HEADER.pack_into(self._memory, offset, max(sequences) + 1, len(data), zlib.crc32(data))

    def read(self, number: int) -> dict[str, Any] | None:
        """Worker ``number``'s latest document; None while it has published none (or, after a few
        tries, when each read met a write)."""
        for _ in range(self._READ_TRIES):
            published = False
            newest: tuple[int, bytes] | None = None
            for copy in (0, 1):
                offset = self._offset(number, copy)
                sequence, length, crc = self._HEADER.unpack_from(self._memory, offset)
                if sequence == 0:
                    continue  # never written
                published = True
                start = offset + self._HEADER.size
                data = self._memory[start : start + min(length, self.COPY - self._HEADER.size)]
                if zlib.crc32(data) == crc and (newest is None or sequence > newest[0]):
                    newest = (sequence, data)
            if newest is not None:
                document: dict[str, Any] = json.loads(newest[1])
                return document
            if not published:
                return None
        return None

    def _offset(self, number: int, copy: int) -> int:
        if not 1 <= number <= self.count:
            raise ValueError(f"no worker {number} on a board of {self.count}")
        return ((number - 1) * 2 + copy) * self.COPY


def watch_supervisor(loop: EventLoop, lifeline: int, on_gone: Callable[[], object]) -> None:
    """Call ``on_gone()`` once the supervisor has exited, even by SIGKILL, which it cannot forward:
    ``lifeline`` is the read end of a pipe whose write end only the supervisor holds, so the kernel
    makes it readable (end of file) then. A readiness event like any other, no polling. A worker must
    not outlive the process that restarts and stops it, holding the port with nobody to stop it."""

    def gone() -> None:
        loop.unregister(lifeline)
        on_gone()

    loop.register(lifeline, selectors.EVENT_READ, gone, None)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"
