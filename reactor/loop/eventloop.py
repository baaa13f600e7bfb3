"""The event loop: one selector, a ready queue, a timer heap and a wakeup socket.

``run_once`` is the only place that runs callbacks. Each iteration waits in ``select`` for at most
the time until the nearest timer (not at all when callbacks are ready, forever when nothing is
scheduled), runs the I/O callbacks of the ready file descriptors, moves due timers to the ready queue,
then runs the callbacks that were ready when the iteration began. Callbacks scheduled meanwhile wait
for the next iteration, so a callback that reschedules itself cannot starve I/O.
"""

from __future__ import annotations

import collections
import logging
import selectors
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reactor.loop.clock import Clock
from reactor.loop.timers import Handle, TimerHandle, TimerHeap
from reactor.trace.tracer import Tracer

logger = logging.getLogger(__name__)

EVENT_READ = selectors.EVENT_READ
EVENT_WRITE = selectors.EVENT_WRITE

IOCallback = Callable[[], object]

# The mechanisms --selector offers. select() cannot watch a descriptor numbered 1024 or more
# (FD_SETSIZE), poll() and epoll have no such ceiling; epoll's cost does not grow with idle sockets.
SELECTORS: dict[str, str] = {
    "auto": "DefaultSelector",
    "select": "SelectSelector",
    "poll": "PollSelector",
    "epoll": "EpollSelector",
}
SELECT_MAX_FD = 1024


def make_selector(name: str) -> selectors.BaseSelector:
    """A selector by its --selector name. Raises ValueError for one this platform does not have."""
    kind = getattr(selectors, SELECTORS.get(name, ""), None)
    if kind is None:
        raise ValueError(f"no {name!r} selector on this platform")
    selector: selectors.BaseSelector = kind()
    return selector


@dataclass(frozen=True)
class LoopStatistics:
    iterations: int  # passes through run_once
    select_seconds: float  # time spent waiting in select
    busy_seconds: float  # time spent running callbacks: the rest of every iteration
    callbacks: int  # ready-queue callbacks and timers run
    io_events: int  # (fd, mask) pairs select reported
    registered: int  # file objects in the selector
    timers: int  # entries in the timer heap, cancelled ones not yet dropped included
    ready: int  # callbacks waiting for the next iteration


def _ignore_signal(signum: int, frame: object) -> None:
    """The Python-level handler does nothing: the C handler has already written the signal number to
    the wakeup socket, and the loop dispatches it between iterations, never in the middle of one."""


class EventLoop:
    """A single-threaded reactor. Only ``call_soon_threadsafe`` may be called from another thread."""

    def __init__(
        self,
        clock: Clock = time.monotonic,
        selector: selectors.BaseSelector | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.time: Clock = clock
        self.tracer = tracer if tracer is not None and tracer.loop else None
        self._selector = selector if selector is not None else selectors.DefaultSelector()
        self._ready: collections.deque[Handle] = collections.deque()
        self._timers = TimerHeap()
        self._stopping = False
        self._closed = False
        self._signal_handlers: dict[int, Handle] = {}
        self._previous_wakeup_fd: int | None = None
        self._wakeup_read, self._wakeup_write = socket.socketpair()
        self._wakeup_read.setblocking(False)
        self._wakeup_write.setblocking(False)
        self.register(self._wakeup_read, EVENT_READ, self._on_wakeup, None)
        self._iterations = 0
        self._select_seconds = 0.0
        self._busy_seconds = 0.0
        self._callbacks = 0
        self._io_events = 0

    # -- I/O registration -------------------------------------------------------------------------

    def register(
        self,
        fileobj: socket.socket | int,
        events: int,
        on_readable: IOCallback | None,
        on_writable: IOCallback | None,
    ) -> None:
        """Watch ``fileobj`` for ``events`` (EVENT_READ | EVENT_WRITE) and call the matching callback."""
        self._selector.register(fileobj, events, (on_readable, on_writable))

    def modify(self, fileobj: socket.socket, events: int) -> None:
        """Change the events watched (the selector makes no syscall for an unchanged mask)."""
        key = self._selector.get_key(fileobj)
        if key.events != events:
            self._selector.modify(fileobj, events, key.data)

    def unregister(self, fileobj: socket.socket | int) -> None:
        self._selector.unregister(fileobj)

    def set_events(
        self,
        fileobj: socket.socket,
        old: int,
        new: int,
        on_readable: IOCallback | None,
        on_writable: IOCallback | None,
    ) -> None:
        """Move ``fileobj`` from watching ``old`` events to ``new`` ones, 0 meaning not watched: the
        register, modify or unregister that takes. A selector cannot watch a file for nothing.
        Callers pass a ``new`` that differs from ``old``: no mask is compared here again."""
        if old == 0:
            self.register(fileobj, new, on_readable, on_writable)
        elif new == 0:
            self.unregister(fileobj)
        else:
            self._selector.modify(fileobj, new, (on_readable, on_writable))

    # -- callbacks --------------------------------------------------------------------------------

    def call_soon(self, callback: Callable[..., object], *args: Any) -> Handle:
        """Run ``callback(*args)`` in the next iteration."""
        handle = Handle(None, callback, args)
        self._ready.append(handle)
        return handle

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> TimerHandle:
        """Run ``callback(*args)`` once ``delay`` seconds have passed on the loop's clock."""
        return self._timers.push(self.time() + delay, callback, args)

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> TimerHandle:
        """Run ``callback(*args)`` once the loop's clock reaches ``when``."""
        return self._timers.push(when, callback, args)

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any) -> Handle:
        """Like call_soon, from any thread: the append is atomic and a byte wakes a sleeping select."""
        handle = Handle(None, callback, args)
        self._ready.append(handle)
        self._wake()
        return handle

    def _wake(self) -> None:
        try:
            self._wakeup_write.send(b"\0")
        except (BlockingIOError, InterruptedError):
            pass  # the socket is full of wakeups already: select will return anyway
        except OSError:
            if not self._closed:
                raise

    # -- signals ----------------------------------------------------------------------------------

    def add_signal_handler(self, signum: int, callback: Callable[..., object], *args: Any) -> None:
        """Run ``callback(*args)`` on the loop when ``signum`` arrives. Main thread only.

        ``signal.set_wakeup_fd`` makes the C-level handler write the signal number to our wakeup
        socket, so the signal is handled like any other readable event, in order, never re-entrantly.
        """
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("signal handlers can only be installed from the main thread")
        if self._previous_wakeup_fd is None:
            self._previous_wakeup_fd = signal.set_wakeup_fd(self._wakeup_write.fileno(), warn_on_full_buffer=False)
        signal.signal(signum, _ignore_signal)
        self._signal_handlers[signum] = Handle(None, callback, args)

    def remove_signal_handler(self, signum: int) -> None:
        if self._signal_handlers.pop(signum, None) is not None:
            signal.signal(signum, signal.SIG_DFL if signum != signal.SIGINT else signal.default_int_handler)
        if not self._signal_handlers and self._previous_wakeup_fd is not None:
            signal.set_wakeup_fd(self._previous_wakeup_fd)
            self._previous_wakeup_fd = None

    def _on_wakeup(self) -> None:
        while True:
            try:
                data = self._wakeup_read.recv(4096)
            except (BlockingIOError, InterruptedError):
                return
            if not data:
                return
            for signum in data:
                handle = self._signal_handlers.get(signum)
                if handle is not None:
                    self._ready.append(Handle(None, handle.callback, handle.args))

    # -- running ----------------------------------------------------------------------------------

    def run_once(self) -> None:
        """One iteration: wait for I/O or the nearest timer, then run what became ready."""
        ready = self._ready
        timeout = self.select_timeout()
        clock = self.time
        started = clock()
        events = self._selector.select(timeout)
        now = clock()
        self._select_seconds += now - started
        self._iterations += 1
        self._io_events += len(events)
        tracer = self.tracer
        if tracer is not None:
            tracer.select(now - started, [(key.fd, mask) for key, mask in events])

        for key, mask in events:
            on_readable, on_writable = key.data
            try:
                if mask & EVENT_READ and on_readable is not None:
                    on_readable()
                if mask & EVENT_WRITE and on_writable is not None:
                    on_writable()
            except Exception:
                logger.exception("I/O callback for fd %d failed", key.fd)

        due = self._timers.pop_due(now)
        ready.extend(due)
        callbacks = 0
        for _ in range(len(ready)):
            handle = ready.popleft()
            if handle.cancelled:
                continue
            callbacks += 1
            try:
                handle.callback(*handle.args)
            except Exception:
                logger.exception("callback %r failed", handle)
        self._callbacks += callbacks
        if tracer is not None:
            tracer.ran(len(due), callbacks)
        self._busy_seconds += clock() - now

    def select_timeout(self) -> float | None:
        """How long the next select may wait: 0 with callbacks ready, the time to the nearest timer,
        or None (until I/O) when nothing is scheduled. Never a fixed polling interval."""
        if self._ready or self._stopping:
            return 0
        deadline = self._timers.next_deadline()
        return None if deadline is None else max(0.0, deadline - self.time())

    def run_forever(self) -> None:
        """Run iterations until ``stop()`` is called."""
        self._stopping = False
        while not self._stopping:
            self.run_once()
        self._stopping = False

    def stop(self) -> None:
        """Make run_forever return after the current iteration."""
        self._stopping = True

    def close(self) -> None:
        """Release the selector, the wakeup socket and any signal handlers. The loop is unusable after."""
        if self._closed:
            return
        for signum in list(self._signal_handlers):
            self.remove_signal_handler(signum)
        self._closed = True
        self._selector.close()
        self._wakeup_read.close()
        self._wakeup_write.close()
        self._ready.clear()

    def statistics(self) -> LoopStatistics:
        return LoopStatistics(
            iterations=self._iterations,
            select_seconds=self._select_seconds,
            busy_seconds=self._busy_seconds,
            callbacks=self._callbacks,
            io_events=self._io_events,
            registered=len(self._selector.get_map()),
            timers=len(self._timers),
            ready=len(self._ready),
        )
