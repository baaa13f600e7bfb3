"""The send queue against a socket that takes only a few bytes at a time."""

from __future__ import annotations

import os
import socket
import tempfile
from typing import cast

import pytest

from reactor.net.sendqueue import FileShrunkError, SendQueue
from reactor.testing import FakeSocket


def flush(queue: SendQueue, sock: FakeSocket) -> int:
    return queue.flush(cast(socket.socket, sock))


def test_short_sends_resume_where_they_stopped() -> None:
    queue = SendQueue()
    queue.push_bytes(b"hello ")
    queue.push_bytes(b"world")
    sock = FakeSocket(max_send=4)
    total = 0
    while queue:
        sent = flush(queue, sock)
        assert sent == 4 or not queue
        total += sent
    assert bytes(sock.sent) == b"hello world"
    assert total == 11
    assert queue.size == 0


def test_small_buffers_go_out_in_one_call() -> None:
    queue = SendQueue()
    for piece in (b"head", b"body", b"tail"):
        queue.push_bytes(piece)
    sock = FakeSocket()
    flush(queue, sock)
    assert sock.calls == 1
    assert bytes(sock.sent) == b"headbodytail"


def test_would_block_leaves_everything_queued() -> None:
    queue = SendQueue()
    queue.push_bytes(b"abc")
    sock = FakeSocket()
    sock.blocked = True
    assert flush(queue, sock) == 0
    assert queue.size == 3


def test_file_ranges_are_sent_with_sendfile_and_resumed() -> None:
    data = os.urandom(1 << 20)
    with tempfile.TemporaryFile() as file:
        file.write(data)
        file.flush()
        left, right = socket.socketpair()
        left.setblocking(False)
        left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        queue = SendQueue()
        queue.push_bytes(b"<")
        queue.push_file(file, 1000, 500_000, owns_file=False)
        queue.push_bytes(b">")
        received = bytearray()
        flushes = 0
        while queue:
            flushes += 1
            queue.flush(left)
            received += right.recv(1 << 20)
        while len(received) < 500_002:
            received += right.recv(1 << 20)
        assert bytes(received) == b"<" + data[1000:501_000] + b">"
        assert flushes > 1, "the small send buffer forces the transfer to resume"
        left.close()
        right.close()


def test_file_that_shrinks_is_an_error() -> None:
    with tempfile.TemporaryFile() as file:
        file.write(b"short")
        file.flush()
        left, right = socket.socketpair()
        queue = SendQueue()
        queue.push_file(file, 0, 100, owns_file=False)
        with pytest.raises(FileShrunkError):
            queue.flush(left)
            queue.flush(left)
        left.close()
        right.close()


def test_clear_closes_owned_files() -> None:
    with tempfile.TemporaryFile() as file:
        file.write(b"x" * 10)
        queue = SendQueue()
        queue.push_file(file, 0, 10, owns_file=True)
        queue.clear()
        assert file.closed
    assert queue.size == 0


class RecordSender:
    """Stands in for SSL_write: takes a whole buffer or nothing (BlockingIOError once ``budget``
    writes are spent), and checks that a retry offers the same bytes as the try it refused."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = budget
        self.sent = bytearray()
        self.refused: bytes | None = None

    def __call__(self, data: bytes | memoryview) -> int:
        if self.refused is not None:
            assert bytes(data) == self.refused, "a retry must offer the same bytes"
        if self.budget is not None:
            if self.budget == 0:
                self.refused = bytes(data)
                raise BlockingIOError
            self.budget -= 1
        self.refused = None
        self.sent += data
        return len(data)


def held_in_memory(queue: SendQueue) -> int:
    return sum(len(entry) for entry in queue._entries if isinstance(entry, (bytes, memoryview)))


def test_copying_joins_buffers_into_one_write_and_retries_the_same_bytes() -> None:
    queue = SendQueue()
    for piece in (b"head ", b"body ", b"tail"):
        queue.push_bytes(piece)
    send = RecordSender(budget=0)
    assert queue.flush_copying(send, 65536) == 0
    assert queue.size == 14
    queue.push_bytes(b" more")
    send.budget = None
    assert queue.flush_copying(send, 65536) == 19  # the refused write first, as it was
    assert bytes(send.sent) == b"head body tail more"
    assert not queue and queue.size == 0


def test_copying_reads_a_file_in_chunks_only_once_what_precedes_is_sent() -> None:
    data = os.urandom(300_000)
    chunk = 65536
    with tempfile.TemporaryFile() as file:
        file.write(data)
        queue = SendQueue()
        queue.push_bytes(b"head")
        queue.push_file(file, 1000, len(data) - 2000, owns_file=False)
        queue.push_bytes(b"tail")
        send = RecordSender()
        while queue:
            # A slow reader: one write goes through per flush, then the socket is full.
            send.budget = 1
            assert queue.flush_copying(send, chunk) <= chunk + 4
            assert held_in_memory(queue) <= chunk + 4  # a chunk of the file (and the tail), never the file
        assert bytes(send.sent) == b"head" + data[1000:-1000] + b"tail"
        assert queue.size == 0


def test_copying_a_file_that_shrinks_is_an_error() -> None:
    with tempfile.TemporaryFile() as file:
        file.write(b"short")
        queue = SendQueue()
        queue.push_file(file, 0, 100, owns_file=False)
        with pytest.raises(FileShrunkError):
            queue.flush_copying(RecordSender(), 65536)


class _NumberedSocket(FakeSocket):
    def fileno(self) -> int:
        return 99


def test_file_ranges_go_through_the_sendfile_the_queue_was_given() -> None:
    calls: list[tuple[int, int, int]] = []

    def sendfile(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        calls.append((out_fd, offset, count))
        return min(count, 3)

    queue = SendQueue(sendfile)
    sock = _NumberedSocket()
    with tempfile.TemporaryFile() as file:
        queue.push_file(file, 2, 5, owns_file=False)
        assert flush(queue, sock) == 3  # short: the queue stops and waits
        assert flush(queue, sock) == 2
    assert calls == [(99, 2, 5), (99, 5, 2)]
    assert not queue
