"""The event loop, driven with a fake clock and run_once(): no sleeping."""

from __future__ import annotations

import socket
import threading

import pytest

from reactor.loop.eventloop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.testing import FakeClock, tick


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def loop(clock: FakeClock):
    loop = EventLoop(clock=clock)
    yield loop
    loop.close()


def test_call_soon_runs_in_the_next_iteration_in_order(loop: EventLoop) -> None:
    seen: list[int] = []
    loop.call_soon(seen.append, 1)
    loop.call_soon(seen.append, 2)
    assert seen == []
    loop.run_once()
    assert seen == [1, 2]


def test_callbacks_scheduled_while_running_wait_for_the_next_iteration(loop: EventLoop) -> None:
    seen: list[str] = []

    def first() -> None:
        seen.append("first")
        loop.call_soon(seen.append, "second")

    loop.call_soon(first)
    loop.run_once()
    assert seen == ["first"]
    loop.run_once()
    assert seen == ["first", "second"]


def test_timers_fire_in_deadline_order_then_insertion_order(loop: EventLoop, clock: FakeClock) -> None:
    seen: list[str] = []
    loop.call_later(3, seen.append, "c")
    loop.call_later(1, seen.append, "a1")
    loop.call_later(2, seen.append, "b")
    loop.call_later(1, seen.append, "a2")
    clock.advance(1.5)
    tick(loop)
    assert seen == ["a1", "a2"]
    clock.advance(10)
    tick(loop)
    assert seen == ["a1", "a2", "b", "c"]


def test_timer_does_not_fire_early(loop: EventLoop, clock: FakeClock) -> None:
    seen: list[int] = []
    loop.call_at(clock() + 5, seen.append, 1)
    clock.advance(4.999)
    tick(loop)
    assert seen == []


def test_cancelled_timer_does_not_run(loop: EventLoop, clock: FakeClock) -> None:
    seen: list[int] = []
    handle = loop.call_later(1, seen.append, 1)
    loop.call_later(1, seen.append, 2)
    handle.cancel()
    clock.advance(2)
    tick(loop)
    assert seen == [2]


def test_cancelled_call_soon_does_not_run(loop: EventLoop) -> None:
    seen: list[int] = []
    loop.call_soon(seen.append, 1).cancel()
    loop.run_once()
    assert seen == []


def test_select_waits_for_the_nearest_timer_only(loop: EventLoop, clock: FakeClock) -> None:
    assert loop.select_timeout() is None  # nothing scheduled: block until I/O
    loop.call_later(7, lambda: None)
    loop.call_later(3, lambda: None)
    assert loop.select_timeout() == pytest.approx(3)
    clock.advance(5)
    assert loop.select_timeout() == 0
    loop.call_soon(lambda: None)
    assert loop.select_timeout() == 0


def test_cancelled_timers_do_not_shorten_the_wait(loop: EventLoop) -> None:
    loop.call_later(1, lambda: None).cancel()
    loop.call_later(4, lambda: None)
    assert loop.select_timeout() == pytest.approx(4)


def test_cancelled_timers_leave_the_heap(loop: EventLoop, clock: FakeClock) -> None:
    handles = [loop.call_later(100 + i, lambda: None) for i in range(1000)]
    for handle in handles:
        handle.cancel()
    clock.advance(2000)
    tick(loop)
    assert loop.statistics().timers < 100


def test_exception_in_a_callback_is_logged_and_the_loop_goes_on(
    loop: EventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []

    def boom() -> None:
        raise ValueError("boom")

    loop.call_soon(boom)
    loop.call_soon(seen.append, 1)
    loop.run_once()
    assert seen == [1]
    assert "boom" in caplog.text


def test_call_soon_threadsafe_wakes_a_blocked_select() -> None:
    loop = EventLoop()  # real clock: select really blocks with no timeout
    seen: list[str] = []
    ready = threading.Event()

    def from_thread() -> None:
        ready.wait(5)
        loop.call_soon_threadsafe(seen.append, "from thread")
        loop.call_soon_threadsafe(loop.stop)

    thread = threading.Thread(target=from_thread)
    thread.start()
    loop.call_soon(ready.set)
    loop.run_forever()  # would block forever without the wakeup byte
    thread.join(5)
    loop.close()
    assert seen == ["from thread"]


def test_read_and_write_callbacks_follow_the_registered_mask(loop: EventLoop) -> None:
    left, right = socket.socketpair()
    left.setblocking(False)
    seen: list[str] = []
    loop.register(left, EVENT_WRITE, lambda: seen.append("read"), lambda: seen.append("write"))
    loop.run_once()
    assert seen == ["write"]
    right.send(b"x")
    loop.modify(left, EVENT_READ)
    seen.clear()
    loop.run_once()
    assert seen == ["read"]
    loop.unregister(left)
    seen.clear()
    tick(loop)
    assert seen == []
    left.close()
    right.close()


def test_statistics_count_iterations_and_callbacks(loop: EventLoop) -> None:
    loop.call_soon(lambda: None)
    loop.run_once()
    stats = loop.statistics()
    assert stats.iterations == 1
    assert stats.callbacks == 1
    assert stats.registered == 1  # the wakeup socket


def test_stop_ends_run_forever_after_the_current_iteration(loop: EventLoop) -> None:
    seen: list[int] = []
    loop.call_soon(loop.stop)
    loop.call_soon(seen.append, 1)
    loop.run_forever()
    assert seen == [1]
