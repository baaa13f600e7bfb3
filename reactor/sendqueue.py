"""What a connection still has to send: byte buffers and file ranges, drained only as fast as the peer
takes them. Bytes go out with send/sendmsg, file ranges with os.sendfile (the kernel copies; Python
never holds the file's contents)."""

from __future__ import annotations

import collections
import os
import socket
from collections.abc import Callable
from typing import BinaryIO

# Buffers gathered into one sendmsg call (well under IOV_MAX, 1024 on Linux).
_MAX_GATHER = 64

# os.sendfile's shape: (socket fd, file fd, offset, count) -> bytes sent. A simulated network gives its own.
SendFile = Callable[[int, int, int, int], int]


class FileRange:
    """``count`` bytes of ``file`` from ``offset``; ``owns_file`` closes the file once they are sent."""

    __slots__ = ("file", "offset", "remaining", "owns_file")

    def __init__(self, file: BinaryIO, offset: int, count: int, owns_file: bool) -> None:
        self.file = file
        self.offset = offset
        self.remaining = count
        self.owns_file = owns_file

    def __repr__(self) -> str:
        return f"<FileRange fd={self.file.fileno()} offset={self.offset} remaining={self.remaining}>"


class FileShrunkError(OSError):
    """The file ended before the promised range: the response cannot be completed."""


Entry = bytes | memoryview | FileRange


class SendQueue:
    """A FIFO of pending output. ``size`` counts every byte still owed, file ranges included."""

    __slots__ = ("_entries", "size", "observer", "_sendfile")

    def __init__(self, sendfile: SendFile | None = None) -> None:
        self._entries: collections.deque[Entry] = collections.deque()
        self.size = 0
        # Looked up now, not at import: a test may have put a spy in os.sendfile's place.
        self._sendfile = os.sendfile if sendfile is None else sendfile
        # Told (fact, detail) about each syscall, for a trace; None costs nothing.
        self.observer: Callable[[str, str], object] | None = None

    def __bool__(self) -> bool:
        return bool(self._entries)

    def push_bytes(self, data: bytes) -> None:
        if data:
            self._entries.append(data)
            self.size += len(data)

    def push_file(self, file: BinaryIO, offset: int, count: int, owns_file: bool) -> None:
        if count > 0:
            self._entries.append(FileRange(file, offset, count, owns_file))
            self.size += count
        elif owns_file:
            file.close()

    def flush(self, sock: socket.socket) -> int:
        """Send as much as the socket takes now; return the bytes sent.

        Stops at the first short send (the socket buffer is full). Raises OSError when the peer is
        gone, FileShrunkError when a file ends early.
        """
        entries = self._entries
        total = 0
        try:
            while entries:
                entry = entries[0]
                if isinstance(entry, (bytes, memoryview)):
                    sent, short = self._send_buffers(sock)
                    if self.observer is not None:
                        self.observer("send", f"bytes={sent}" + (" short" if short else ""))
                else:
                    sent = self._sendfile(sock.fileno(), entry.file.fileno(), entry.offset, entry.remaining)
                    if sent == 0:
                        raise FileShrunkError(f"{entry.file.name!r} ended before offset {entry.offset}")
                    if self.observer is not None:
                        where = f"fd={entry.file.fileno()} offset={entry.offset}"
                        self.observer("sendfile", f"{where} sent={sent} left={entry.remaining - sent}")
                    entry.offset += sent
                    entry.remaining -= sent
                    short = entry.remaining > 0
                    if not short:
                        entries.popleft()
                        if entry.owns_file:
                            entry.file.close()
                total += sent
                self.size -= sent
                if short:
                    break
        except (BlockingIOError, InterruptedError):
            if self.observer is not None:
                self.observer("blocked", f"queued={self.size}")
        return total

    def _send_buffers(self, sock: socket.socket) -> tuple[int, bool]:
        """Send the leading run of byte buffers in one syscall; return (sent, stopped short)."""
        entries = self._entries
        first = entries[0]
        assert isinstance(first, (bytes, memoryview))
        if len(entries) == 1 or not isinstance(entries[1], (bytes, memoryview)):
            sent = sock.send(first)
            if sent < len(first):
                entries[0] = memoryview(first)[sent:]
                return sent, True
            entries.popleft()
            return sent, False
        buffers: list[bytes | memoryview] = []
        for entry in entries:
            if not isinstance(entry, (bytes, memoryview)) or len(buffers) == _MAX_GATHER:
                break
            buffers.append(entry)
        sent = sock.sendmsg(buffers)
        left = sent
        for buffer in buffers:
            size = len(buffer)
            if left < size:
                entries[0] = memoryview(buffer)[left:]
                return sent, True
            left -= size
            entries.popleft()
        return sent, False

    def clear(self) -> None:
        """Drop everything unsent, closing owned files."""
        for entry in self._entries:
            if isinstance(entry, FileRange) and entry.owns_file:
                entry.file.close()
        self._entries.clear()
        self.size = 0
