"""Scheduled callbacks: their handles and the timer heap."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any


def _cancelled(*args: object) -> None:
    """What a cancelled handle calls instead of its callback: nothing."""


class Handle:
    """A callback with its arguments, to run once; ``when`` is set for timers, None for call_soon."""

    __slots__ = ("when", "callback", "args", "cancelled", "_heap")

    def __init__(
        self,
        when: float | None,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        heap: TimerHeap | None = None,
    ) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False
        self._heap = heap

    def cancel(self) -> None:
        """Do not run the callback. Cancelled timers leave the heap lazily; the callback and its
        arguments (often a whole connection) are let go at once."""
        if self.cancelled:
            return
        self.cancelled = True
        self.callback, self.args = _cancelled, ()
        if self._heap is not None:
            self._heap.cancelled += 1

    def __repr__(self) -> str:
        name = getattr(self.callback, "__qualname__", repr(self.callback))
        state = " cancelled" if self.cancelled else ""
        at = "" if self.when is None else f" at {self.when:.3f}"
        return f"<Handle {name}{at}{state}>"


class TimerHandle(Handle):
    """A Handle on the timer heap: ``when`` is always a time."""

    __slots__ = ()
    when: float


class TimerHeap:
    """Timers ordered by ``(when, sequence)``: equal deadlines fire in the order they were set."""

    __slots__ = ("_heap", "_sequence", "cancelled")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._sequence = itertools.count()
        self.cancelled = 0  # cancelled handles still in the heap, counted as they are cancelled

    def push(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]) -> TimerHandle:
        handle = TimerHandle(when, callback, args, self)
        heapq.heappush(self._heap, (when, next(self._sequence), handle))
        return handle

    def _pop(self) -> TimerHandle:
        handle = heapq.heappop(self._heap)[2]
        handle._heap = None  # cancelling it from now on changes nothing here
        if handle.cancelled:
            self.cancelled -= 1
        return handle

    def next_deadline(self) -> float | None:
        """The earliest live deadline, or None. Drops cancelled timers found at the top."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            self._pop()
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> list[TimerHandle]:
        """Remove and return the live timers due at ``now``, earliest first."""
        heap = self._heap
        due = []
        while heap and heap[0][0] <= now:
            handle = self._pop()
            if not handle.cancelled:
                due.append(handle)
        if self.cancelled > 64 and self.cancelled > len(heap) // 2:
            # Mostly dead entries: rebuild so memory follows the live timers (asyncio does the same).
            # The live handles keep pointing here; the dropped ones are cancelled, and cancel() never
            # reads _heap again.
            live = [entry for entry in heap if not entry[2].cancelled]
            heapq.heapify(live)
            self._heap = live
            self.cancelled = 0
        return due

    def __len__(self) -> int:
        """Entries in the heap, cancelled ones not yet dropped included."""
        return len(self._heap)
