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

    __slots__ = ("_entries", "size", "observer", "_refused", "_sendfile")

    def __init__(self, sendfile: SendFile | None = None) -> None:
        self._entries: collections.deque[Entry] = collections.deque()
        self.size = 0
        # Looked up now, not at import: a test may have put a spy in os.sendfile's place.
        self._sendfile = os.sendfile if sendfile is None else sendfile
        # Told (fact, detail) about each syscall, for a trace; None costs nothing.
        self.observer: Callable[[str, str], object] | None = None
        # flush_copying: the buffer a send refused, which the next try offers unchanged.
        self._refused: bytes | memoryview | None = None

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
                if isinstance(entry, FileRange):
                    sent = self._send_file(sock, entry)
                    short = entry.remaining > 0
                elif len(entries) == 1 or type(entries[1]) is FileRange:  # one buffer: one send
                    sent = sock.send(entry)
                    short = sent < len(entry)
                    if short:
                        entries[0] = memoryview(entry)[sent:]
                    else:
                        entries.popleft()
                    if self.observer is not None:
                        self.observer("send", f"bytes={sent}" + (" short" if short else ""))
                else:
                    sent, short = self._send_gathered(sock)
                total += sent
                self.size -= sent
                if short:
                    break
        except (BlockingIOError, InterruptedError):
            if self.observer is not None:
                self.observer("blocked", f"queued={self.size}")
        return total

    def _send_file(self, sock: socket.socket, entry: FileRange) -> int:
        """Send from the file range at the head of the queue with os.sendfile; return the bytes sent.
        Raises FileShrunkError when the file ends before the range does."""
        sent = self._sendfile(sock.fileno(), entry.file.fileno(), entry.offset, entry.remaining)
        if sent == 0:
            raise FileShrunkError(f"{entry.file.name!r} ended before offset {entry.offset}")
        if self.observer is not None:
            where = f"fd={entry.file.fileno()} offset={entry.offset}"
            self.observer("sendfile", f"{where} sent={sent} left={entry.remaining - sent}")
        entry.offset += sent
        entry.remaining -= sent
        if not entry.remaining:
            self._entries.popleft()
            if entry.owns_file:
                entry.file.close()
        return sent

    def flush_copying(self, send: Callable[[bytes | memoryview], int], chunk_size: int) -> int:
        """Send as much as ``send`` takes now, for a socket with neither sendmsg nor sendfile (TLS
        encrypts in user space); return the bytes sent. ``send`` raises BlockingIOError to mean "not
        now", and must be offered the same bytes again then (OpenSSL's SSL_write retry rule): so
        leading buffers are joined into one entry before the first try, and a file range is read
        ``chunk_size`` bytes at a time into a bytes entry in front of it, only once everything before
        it is sent; a buffer once refused is offered again as it is, never joined with what came
        after it. A slow reader therefore holds one chunk of the file in memory, never the file.

        Raises OSError when the peer is gone, FileShrunkError when a file ends early.
        """
        entries = self._entries
        total = 0
        try:
            while entries:
                entry = entries[0]
                if isinstance(entry, FileRange):
                    chunk = os.pread(entry.file.fileno(), min(chunk_size, entry.remaining), entry.offset)
                    if not chunk:
                        raise FileShrunkError(f"{entry.file.name!r} ended before offset {entry.offset}")
                    if self.observer is not None:
                        self.observer("pread", f"fd={entry.file.fileno()} offset={entry.offset} bytes={len(chunk)}")
                    entry.offset += len(chunk)
                    entry.remaining -= len(chunk)
                    if not entry.remaining:
                        entries.popleft()
                        if entry.owns_file:
                            entry.file.close()
                    entries.appendleft(chunk)  # the bytes stay counted in size: only their form changed
                    continue
                if entry is not self._refused and len(entries) > 1 and not isinstance(entries[1], FileRange):
                    entry = self._join_leading_buffers(chunk_size)
                self._refused = entry
                sent = send(entry)
                self._refused = None
                if self.observer is not None:
                    self.observer("send", f"bytes={sent}" + (" short" if sent < len(entry) else ""))
                total += sent
                self.size -= sent
                if sent < len(entry):
                    entries[0] = memoryview(entry)[sent:]
                    break
                entries.popleft()
        except (BlockingIOError, InterruptedError):
            if self.observer is not None:
                self.observer("blocked", f"queued={self.size}")
        return total

    def _join_leading_buffers(self, limit: int) -> bytes:
        """Replace the leading byte buffers, up to about ``limit`` bytes, by one; return it."""
        entries = self._entries
        buffers: list[bytes | memoryview] = []
        size = 0
        while entries and size < limit:
            entry = entries[0]
            if isinstance(entry, FileRange):
                break
            buffers.append(entry)
            size += len(entry)
            entries.popleft()
        joined = b"".join(buffers)
        entries.appendleft(joined)
        return joined

    def _send_gathered(self, sock: socket.socket) -> tuple[int, bool]:
        """Send the leading run of two or more byte buffers in one sendmsg; return (sent, stopped short)."""
        entries = self._entries
        buffers: list[bytes | memoryview] = []
        for entry in entries:
            if not isinstance(entry, (bytes, memoryview)) or len(buffers) == _MAX_GATHER:
                break
            buffers.append(entry)
        sent = sock.sendmsg(buffers)
        left = sent
        short = False
        for buffer in buffers:
            size = len(buffer)
            if left < size:
                entries[0] = memoryview(buffer)[left:]
                short = True
                break
            left -= size
            entries.popleft()
        if self.observer is not None:
            self.observer("send", f"bytes={sent}" + (" short" if short else ""))
        return sent, short

    def clear(self) -> None:
        """Drop everything unsent, closing owned files."""
        for entry in self._entries:
            if isinstance(entry, FileRange) and entry.owns_file:
                entry.file.close()
        self._entries.clear()
        self.size = 0
