"""A deadline that is cheap to push back: the idle and send timeouts of a transport."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reactor.loop.eventloop import EventLoop
    from reactor.loop.timers import TimerHandle


class Deadline:
    """A timeout that moves on almost every event (idle and send timeouts): ``set`` only stores the new
    deadline when it is later than the armed timer; the timer, when it fires early, re-arms itself for
    the stored deadline. So pushing a deadline back costs no heap operation (lazy reset)."""

    __slots__ = ("_loop", "_callback", "_deadline", "_timer")

    def __init__(self, loop: EventLoop, callback: Callable[[], object]) -> None:
        self._loop = loop
        self._callback = callback
        self._deadline: float | None = None
        self._timer: TimerHandle | None = None

    def set(self, delay: float) -> None:
        """Fire ``delay`` seconds from now, replacing any earlier setting."""
        deadline = self._loop.time() + delay
        self._deadline = deadline
        timer = self._timer
        # A stored timer is never cancelled (clear and this method let go of the one they cancel).
        if timer is None or timer.when > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = self._loop.call_at(deadline, self._fire)

    def clear(self) -> None:
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return
        if self._loop.time() < deadline:
            self._timer = self._loop.call_at(deadline, self._fire)
            return
        self._deadline = None
        self._callback()
