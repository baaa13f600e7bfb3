"""The access log: Common Log Format, written in batches."""

from __future__ import annotations

import io

import pytest

from reactor.accesslog import FLUSH_LINES, AccessLog
from reactor.loop.eventloop import EventLoop
from reactor.testing import FakeClock, tick


def test_lines_are_in_the_common_log_format_with_escaped_request_lines() -> None:
    stream = io.StringIO()
    log = AccessLog(stream, wall=lambda: 784111777.0)
    log("127.0.0.1", "-", 'GET /a"b\x01 HTTP/1.1', 200, 12)
    log("::1", "-", "-", 400, 0)
    log.flush()
    first, second = stream.getvalue().splitlines()
    assert first.startswith("127.0.0.1 - - [") and first.endswith('] "GET /a\\"b\\x01 HTTP/1.1" 200 12')
    assert second.endswith('] "-" 400 -')


def test_the_user_field_is_the_authenticated_user_escaped() -> None:
    stream = io.StringIO()
    log = AccessLog(stream, wall=lambda: 784111777.0)
    log("127.0.0.1", "ann", "GET / HTTP/1.1", 200, 1)
    log("127.0.0.1", "b o\x01b", "GET / HTTP/1.1", 200, 1)  # CLF fields are space-separated
    log.flush()
    ann, bob = stream.getvalue().splitlines()
    assert ann.startswith("127.0.0.1 - ann [")
    assert bob.startswith("127.0.0.1 - b\\x20o\\x01b [")


def test_unbatched_each_line_is_written_as_it_comes() -> None:
    stream = io.StringIO()
    log = AccessLog(stream, batched=False)
    log("127.0.0.1", "-", "GET / HTTP/1.1", 200, 1)
    assert "GET / HTTP/1.1" in stream.getvalue()


def test_lines_wait_for_a_batch_then_go_in_one_write() -> None:
    writes: list[str] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

    log = AccessLog(Stream())
    for _ in range(FLUSH_LINES - 1):
        log("127.0.0.1", "-", "GET / HTTP/1.1", 200, 1)
    assert writes == [], "no syscall per response"
    log("127.0.0.1", "-", "GET / HTTP/1.1", 200, 1)
    assert len(writes) == 1 and writes[0].count("\n") == FLUSH_LINES


def test_the_loop_flushes_what_was_collected_every_second() -> None:
    stream = io.StringIO()
    clock = FakeClock()
    loop = EventLoop(clock=clock)
    log = AccessLog(stream)
    log.flush_on(loop)
    log("127.0.0.1", "-", "GET / HTTP/1.1", 200, 1)
    tick(loop)
    assert stream.getvalue() == ""
    clock.advance(1.0)
    tick(loop)
    assert "GET / HTTP/1.1" in stream.getvalue()
    loop.close()


def test_an_idle_loop_with_an_access_log_arms_no_timer() -> None:
    # The loop's rule: the select timeout comes from the nearest timer, never a polling interval.
    clock = FakeClock()
    loop = EventLoop(clock=clock)
    log = AccessLog(io.StringIO())
    log.flush_on(loop)
    assert loop.select_timeout() is None, "nothing logged: select may sleep until I/O"
    log("127.0.0.1", "-", "GET / HTTP/1.1", 200, 1)
    log("127.0.0.1", "-", "GET / HTTP/1.1", 200, 1)
    assert loop.statistics().timers == 1, "one timer for the batch"
    assert loop.select_timeout() == pytest.approx(1.0)
    clock.advance(1.0)
    tick(loop)
    assert loop.select_timeout() is None, "written: no timer until the next line"
    loop.close()
