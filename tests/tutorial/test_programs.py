"""Each tutorial program does what its chapter says, over real sockets on 127.0.0.1: the blocking
server stalls behind a slow client and the reactor ones do not, threads cost a thread per client,
pipelined requests are answered in order, a short send queues the rest while reading goes on, a
client that does not read is not read from either, silent clients are timed out, and files go out
with sendfile, opened without blocking and never read into memory."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.tutorial import step8_timers
from examples.tutorial.listen import HELLO
from examples.tutorial.step6_writequeue import BIG
from reactor.testing import FakeClock
from tests.integration.client import wait_until
from tests.integration.processes import ENV, REPO
from tests.tutorial.program import Program, read_response, receive_all

REQUEST = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
ECHO = b"GET / body=0\n"  # what the servers of chapters 5 to 8 answer to REQUEST
STALL = 0.5  # how long a stalled client is watched getting nothing


@pytest.fixture
def program(request: pytest.FixtureRequest) -> Iterator[Program]:
    module, *args = request.param
    running = Program(module, *args)
    yield running
    running.stop()


def gets_nothing_for(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        sock.recv(1)
    except TimeoutError:
        return True
    finally:
        sock.settimeout(10)
    return False


def slow_and_waiting(program: Program) -> tuple[socket.socket, socket.socket]:
    """A client that has sent half its request, and then a second client with a whole one."""
    slow = program.connect()
    slow.sendall(REQUEST[:20])
    program.wait_for("accepted")
    second = program.connect()
    second.sendall(REQUEST)
    return slow, second


@pytest.mark.parametrize("program", [("step1_blocking",)], indirect=True)
def test_the_blocking_server_makes_the_second_client_wait_for_the_slow_one(program: Program) -> None:
    slow, second = slow_and_waiting(program)
    with slow, second:
        assert gets_nothing_for(second, STALL)
        slow.sendall(REQUEST[20:])
        assert receive_all(slow) == HELLO
        assert receive_all(second) == HELLO  # only now


@pytest.mark.parametrize("program", [("step2_threads",), ("step3_selectors",)], indirect=True)
def test_threads_and_selectors_answer_the_second_client_at_once(program: Program) -> None:
    slow, second = slow_and_waiting(program)
    with slow, second:
        assert receive_all(second) == HELLO  # while the slow one is still halfway
        slow.sendall(REQUEST[20:])
        assert receive_all(slow) == HELLO


def idle_clients(program: Program, count: int) -> list[socket.socket]:
    clients = [program.connect() for _ in range(count)]
    program.wait_for("accepted", count)
    return clients


@pytest.mark.parametrize("program", [("step2_threads",)], indirect=True)
def test_threads_cost_a_thread_per_idle_client(program: Program) -> None:
    clients = idle_clients(program, 20)
    program.wait_for("threads=21")  # printed as the last thread starts
    assert wait_until(lambda: program.threads() == 21)  # the main thread and one per client, in recv
    for client in clients:
        client.close()


@pytest.mark.parametrize("program", [("step3_selectors",)], indirect=True)
def test_one_selector_thread_holds_every_idle_client(program: Program) -> None:
    clients = idle_clients(program, 20)
    assert program.threads() == 1
    with program.connect() as client:
        client.sendall(REQUEST)
        assert receive_all(client) == HELLO
    for client in clients:
        client.close()


@pytest.mark.parametrize("program", [("step4_states",), ("step5_sansio",)], indirect=True)
def test_pipelined_requests_are_answered_in_order_on_one_connection(program: Program) -> None:
    with program.connect() as client:
        client.sendall(b"".join(b"GET /%d HTTP/1.1\r\nHost: t\r\n\r\n" % number for number in range(3)))
        buffer = bytearray()
        bodies = [read_response(client, buffer)[1] for _ in range(3)]
        assert [body.split()[1] for body in bodies] == [b"/0", b"/1", b"/2"]
        for byte in b"GET /last HTTP/1.1\r\nConnection: close\r\n\r\n":  # one byte a send
            client.send(bytes([byte]))
        head, body = read_response(client, buffer)
        assert b"/last" in body and b"Connection: close" in head
        assert receive_all(client) == b""
    assert program.wait_for(r"reading -> writing")
    assert program.wait_for(r"writing -> closed")


@pytest.mark.parametrize("program", [("step5_sansio",)], indirect=True)
def test_the_parser_server_answers_bad_bytes_with_their_status_and_reads_bodies(program: Program) -> None:
    with program.connect() as client:
        client.sendall(b"POST /form HTTP/1.1\r\nContent-Length: 5\r\n\r\nab")
        client.sendall(b"cde")
        buffer = bytearray()
        assert read_response(client, buffer)[1] == b"POST /form body=5\n"
        client.sendall(b"GET / HTTP/2.0\r\n\r\n")
        head = read_response(client, buffer)[0]
        assert head.startswith(b"HTTP/1.1 505 ") and b"Connection: close" in head
        assert receive_all(client) == b""
    with program.connect() as client:
        client.sendall(b"\x16\x03\x01 not http\r\n\r\n")
        assert receive_all(client).startswith(b"HTTP/1.1 400 ")


def raw_client(program: Program, receive_buffer: int) -> socket.socket:
    """A connection with a small receive window (set before connecting, so that TCP offers it)."""
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    client.settimeout(10)
    client.connect(("127.0.0.1", program.port))
    return client


def queued(line: str) -> int:
    return int(re.search(r"queued=(\d+)", line)[1])  # type: ignore[index]


@pytest.mark.parametrize("program", [("step6_writequeue",)], indirect=True)
def test_a_short_send_queues_the_rest_and_reading_goes_on(program: Program) -> None:
    with program.connect() as client:
        client.sendall(b"GET /big HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n")
        buffer = bytearray()
        assert read_response(client, buffer)[1] == BIG
        assert read_response(client, buffer)[1] == b"GET /hello body=0\n"
    program.wait_for(r"send bytes=57$")  # the second answer, sent last
    lines = program.lines
    hello = next(index for index, line in enumerate(lines) if "request GET /hello" in line)
    assert "queue bytes=57" in lines[hello + 1]  # its answer queued behind /big's rest, not sent first
    assert any(" short queued=" in line for line in lines[hello:])  # read while /big was still queued
    assert not any("reading -> writing" in line for line in lines)  # no select round per answer


@pytest.mark.parametrize("program", [("step6_writequeue",)], indirect=True)
def test_without_water_marks_a_client_that_does_not_read_fills_the_queue(program: Program) -> None:
    with raw_client(program, 32 * 1024) as client:
        client.sendall(b"GET /big HTTP/1.1\r\n\r\n" * 4)
        last = program.wait_for(r"queue bytes=\d+ queued=\d+", 3)[-1]
        assert queued(last) > 3 * len(BIG)  # all four answers in our memory, none of them read


@pytest.mark.parametrize("program", [("step6_writequeue",), ("step7_backpressure",)], indirect=True)
def test_a_client_that_resets_mid_answer_is_closed_and_the_server_goes_on(program: Program) -> None:
    with raw_client(program, 32 * 1024) as client:
        client.sendall(b"GET /big HTTP/1.1\r\n\r\n")
        program.wait_for(r"short queued=")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
    program.wait_for(r"send failed: .*reset|-> closed")
    with program.connect() as client:
        client.sendall(REQUEST)
        assert read_response(client, bytearray())[1] == ECHO


@pytest.mark.parametrize("program", [("step7_backpressure",)], indirect=True)
def test_a_client_that_does_not_read_is_not_read_from(program: Program) -> None:
    with raw_client(program, 32 * 1024) as client:
        client.sendall(b"GET /big HTTP/1.1\r\n\r\n" * 4)
        paused = program.wait_for(r"pause reading: queued=\d+")[0]
        assert queued(paused) <= len(BIG) + 100  # at most one answer waits in Python
        assert len(program.wait_for("request GET /big")) == 1  # the others wait, unparsed
        client.sendall(b"GET /big HTTP/1.1\r\n\r\n" * 4)
        assert program.quiet_for(r"recv bytes", STALL)  # paused: the new requests stay in the kernel
        buffer = bytearray()
        bodies = [read_response(client, buffer)[1] for _ in range(8)]  # now read: it resumes
        assert all(body == BIG for body in bodies)
    assert program.wait_for(r"resume reading: queued=\d+ <= 16384")
    assert len(program.wait_for("request GET /big", 8)) == 8


@pytest.mark.parametrize("program", [("step8_timers", "--request-timeout", "1")], indirect=True)
def test_silent_and_trickling_clients_are_closed_by_the_request_timeout(program: Program) -> None:
    started = time.monotonic()
    silent = program.connect()
    trickling = program.connect()
    trickling.sendall(REQUEST[:10])
    with silent, trickling, program.connect() as client:
        client.sendall(REQUEST + REQUEST)  # two at once, and answered at once
        buffer = bytearray()
        assert read_response(client, buffer)[1] == read_response(client, buffer)[1] == ECHO
        trickling.sendall(REQUEST[10:12])  # progress does not extend a request's time
        assert receive_all(silent) == b""
        assert receive_all(trickling) == b""
        assert time.monotonic() - started >= 1
    assert len(program.wait_for("timeout request 1", 2)) == 2


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    (tmp_path / "big.bin").write_bytes(os.urandom(8 * 2**20))
    (tmp_path / "hello.txt").write_bytes(b"hello\n")
    return tmp_path


def test_files_go_out_with_sendfile(directory: Path) -> None:
    program = Program("step9_sendfile", "-d", str(directory))
    try:
        with socket.socket() as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            client.settimeout(10)
            client.connect(("127.0.0.1", program.port))
            client.sendall(b"GET /big.bin HTTP/1.1\r\n\r\nGET /hello.txt HTTP/1.1\r\n\r\nGET /../x HTTP/1.1\r\n\r\n")
            assert program.wait_for(r"pause reading")  # a file range counts in the queue's size
            buffer = bytearray()
            body = read_response(client, buffer)[1]
            assert hashlib.sha256(body).digest() == hashlib.sha256((directory / "big.bin").read_bytes()).digest()
            assert read_response(client, buffer)[1] == b"hello\n"
            assert read_response(client, buffer)[0].startswith(b"HTTP/1.1 404 ")
        moves = [re.search(r"sendfile offset=(\d+) bytes=(\d+)", line) for line in program.wait_for("sendfile", 3)]
        offsets = [(int(move[1]), int(move[2])) for move in moves if move]
        big = offsets[: next(index for index, (offset, _) in enumerate(offsets[1:], 1) if offset == 0)]
        assert big[0][0] == 0 and len(big) > 2  # then on from where each short sendfile stopped:
        assert all(offset + count == after for (offset, count), (after, _) in itertools.pairwise(big))
    finally:
        program.stop()


@pytest.mark.parametrize(
    "args",
    [
        ("step1_blocking", "99999"),
        ("step3_selectors", "http"),
        ("step8_timers", "--request-timeout", "-1", "0"),
        ("step8_timers", "--send-timeout", "inf", "0"),
        ("step9_sendfile", "-d", "/nonexistent", "0"),
        ("client",),
        ("client", "0", "/a", "--raw", "GET / HTTP/1.1\\r\\n\\r\\n"),
        ("client", "99999", "/"),
        ("client", "0", "--raw", "caf\u00e9 \\"),
        ("client", "0", "--pipeline"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_code_2(args: tuple[str, ...]) -> None:
    module, *rest = args
    result = subprocess.run(
        [sys.executable, "-m", f"examples.tutorial.{module}", *rest],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=ENV,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr


def test_the_request_timer_starts_again_after_every_answer() -> None:
    # Requests at 0, 4 and 8 s with a 5 s request timeout: each comes within 5 s of the last answer,
    # so all three are answered, and the connection is closed 5 s after the third answer. The
    # server runs in this thread on a fake clock, over a real socket: nothing waits.
    clock = FakeClock()
    started = clock.now
    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = step8_timers.Server(listener, request_timeout=5, send_timeout=10, clock=clock)
        with socket.create_connection(listener.getsockname()) as client:
            client.setblocking(False)
            for at in (0, 4, 8):
                assert run_at(server, clock, started + at, client) == b"", f"closed before the request at {at} s"
                client.sendall(REQUEST)
                assert read_answer(server, clock, client) == ECHO, f"the request at {at} s"
            assert run_at(server, clock, started + 8 + 4.9, client) == b""  # still open
            assert run_at(server, clock, started + 8 + 5, client) is None  # closed


def run_at(server: step8_timers.Server, clock: FakeClock, now: float, client: socket.socket) -> bytes | None:
    """Move the clock to ``now`` and run one round of the loop and its due timers; return what the
    client can read then, or None when the server has closed the connection."""
    clock.now = now
    server.run_once(0)
    server.timers.run_due()
    server.run_once(0)
    try:
        return client.recv(65536) or None
    except BlockingIOError:
        return b""
    except ConnectionResetError:
        return None


def read_answer(server: step8_timers.Server, clock: FakeClock, client: socket.socket) -> bytes | None:
    """Run the loop, without moving the clock, until the client has a whole answer; return its body,
    or None when the server closes the connection instead."""
    buffer = bytearray()
    for _ in range(10):
        server.run_once(1)  # a bounded wait for the request to arrive
        received = run_at(server, clock, clock.now, client)
        if received is None:
            return None
        buffer += received
        head, _, body = bytes(buffer).partition(b"\r\n\r\n")
        if body and len(body) == int(re.search(rb"Content-Length: (\d+)", head)[1]):  # type: ignore[index]
            return body
    raise AssertionError(f"no whole answer: {bytes(buffer)!r}")


def test_a_fifo_in_the_folder_does_not_freeze_the_server(directory: Path) -> None:
    # open() of a FIFO waits for a writer: a server that opens before it checks what the name is
    # stops every connection, chapter 3's rule broken. Opened without blocking, it is a 404.
    os.mkfifo(directory / "pipe")
    program = Program("step9_sendfile", "-d", str(directory))
    try:
        with program.connect(timeout=5) as first, program.connect(timeout=5) as second:
            first.sendall(b"GET /pipe HTTP/1.1\r\n\r\n")
            program.wait_for("request GET /pipe")
            second.sendall(b"GET /hello.txt HTTP/1.1\r\n\r\n")
            assert read_response(second, bytearray())[1] == b"hello\n"
            assert read_response(first, bytearray())[0].startswith(b"HTTP/1.1 404 ")
    finally:
        program.stop()


@pytest.mark.parametrize("copy", [False, True], ids=["sendfile", "copy"])
def test_sendfile_keeps_the_file_out_of_memory_and_copy_does_not(tmp_path: Path, copy: bool) -> None:
    size = 48 * 2**20
    with open(tmp_path / "big.bin", "wb") as file:
        file.truncate(size)  # 48 MiB of zeros
    program = Program("step9_sendfile", "-d", str(tmp_path), *(["--copy"] if copy else []))
    try:
        with program.connect() as client:
            client.sendall(b"GET /big.bin HTTP/1.1\r\nConnection: close\r\n\r\n")
            assert len(receive_all(client)) > size
        peak = int(re.search(r"peak memory \(max RSS\) (\d+) MiB", program.wait_for("peak memory")[0])[1])  # type: ignore[index]
    finally:
        program.stop()
    if copy:
        assert peak > 2 * 48  # the file read into bytes, and copied once more behind the head
    else:
        assert peak < 48  # the file never entered the process
