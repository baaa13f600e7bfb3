"""Deadlines that move cheaply."""

from __future__ import annotations

import gc
import weakref

from reactor.loop.deadline import Deadline
from reactor.loop.eventloop import EventLoop
from reactor.testing import FakeClock, tick


def test_deadline_fires_once_after_its_delay() -> None:
    clock = FakeClock()
    loop = EventLoop(clock=clock)
    fired: list[float] = []
    deadline = Deadline(loop, lambda: fired.append(clock()))
    deadline.set(5)
    clock.advance(4.9)
    tick(loop)
    assert fired == []
    clock.advance(0.2)
    tick(loop)
    assert fired == [clock()]
    clock.advance(10)
    tick(loop)
    assert len(fired) == 1
    loop.close()


def test_pushing_a_deadline_later_adds_no_timer_and_fires_at_the_new_time() -> None:
    clock = FakeClock()
    loop = EventLoop(clock=clock)
    fired: list[float] = []
    deadline = Deadline(loop, lambda: fired.append(clock()))
    deadline.set(5)
    for _ in range(100):
        clock.advance(1)
        deadline.set(5)  # as a connection does on every request
    assert loop.statistics().timers == 1
    start = clock()
    clock.advance(4)
    tick(loop)  # the old timer fires early and re-arms itself
    assert fired == []
    clock.advance(1)
    tick(loop)
    assert fired == [start + 5]
    loop.close()


def test_pulling_a_deadline_earlier_takes_effect() -> None:
    clock = FakeClock()
    loop = EventLoop(clock=clock)
    fired: list[int] = []
    deadline = Deadline(loop, lambda: fired.append(1))
    deadline.set(60)
    deadline.set(1)
    clock.advance(1)
    tick(loop)
    assert fired == [1]
    loop.close()


def test_cleared_deadline_never_fires() -> None:
    clock = FakeClock()
    loop = EventLoop(clock=clock)
    fired: list[int] = []
    deadline = Deadline(loop, lambda: fired.append(1))
    deadline.set(1)
    deadline.clear()
    clock.advance(5)
    tick(loop)
    assert fired == []
    loop.close()


def test_a_cancelled_timer_lets_go_of_its_callback_at_once() -> None:
    clock = FakeClock()
    loop = EventLoop(clock=clock)

    class Owner:
        def fire(self) -> None:
            pass

    owner = Owner()
    handle = loop.call_later(60, owner.fire)
    reference = weakref.ref(owner)
    handle.cancel()
    del owner
    gc.collect()
    assert reference() is None, "the heap keeps the entry until it is dropped, not the callback's owner"
    loop.close()


def test_the_heap_counts_cancellations_and_compacts_when_most_are_dead() -> None:
    clock = FakeClock()
    loop = EventLoop(clock=clock)
    fired: list[int] = []
    handles = [loop.call_later(100 + i, fired.append, i) for i in range(1000)]
    for handle in handles[:400]:
        handle.cancel()
        handle.cancel()  # twice counts once
    tick(loop)
    assert loop.statistics().timers == 1000, "400 dead entries out of 1000 (each cancelled twice): kept"
    for handle in handles[400:900]:
        handle.cancel()
    tick(loop)
    assert loop.statistics().timers == 100, "more than half were dead: rebuilt with the live ones"
    clock.advance(2000)
    tick(loop)
    assert fired == list(range(900, 1000)), "the live ones fire, in order; no cancelled one does"
    assert loop.statistics().timers == 0
    loop.close()


def test_timers_that_survive_a_compaction_still_count_their_cancellations() -> None:
    clock = FakeClock()
    loop = EventLoop(clock=clock)
    handles = [loop.call_later(100 + i, lambda: None) for i in range(1000)]
    for handle in handles[:900]:
        handle.cancel()
    tick(loop)
    assert loop.statistics().timers == 100
    for handle in handles[:940]:
        handle.cancel()  # the 900 dropped ones count nothing, the 40 live ones count 40
    tick(loop)
    assert loop.statistics().timers == 100, "40 dead entries out of 100: not worth a rebuild"
    for handle in handles[940:970]:
        handle.cancel()
    tick(loop)
    assert loop.statistics().timers == 30, "70 counted: the live ones still report to the heap"
    loop.close()
