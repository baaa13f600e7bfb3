"""Chapter 9: ``sendfile``: file bodies go from the page cache to the socket without Python.

Chapter 6's way to send a file would be to read it into bytes and write those: a copy into Python,
memory for the whole body, and another copy back into the kernel. ``os.sendfile(socket, file,
offset, count)`` asks the kernel to copy straight from the file to the socket, as far as the socket
buffer takes it, and returns how much it moved. So a file body in the send queue is not bytes but a
``FileRange`` (file, offset, bytes left): each send moves the offset on. The head goes in front as
bytes, in the same queue, so the order on the wire is the order of the writes. Backpressure and
timers are unchanged: a range counts its bytes left in the queue's size.

Opening is the other half: ``open()`` of a FIFO waits until something opens it for writing, and
while it waits the whole loop waits (chapter 3's rule). So files are opened with ``O_NONBLOCK``, and
the descriptor, not the name, is checked to be a regular file.

``--copy`` serves the files chapter 6's way, for comparison: a plain ``open()``, the whole file read,
its bytes written. Each closed connection prints the server's peak memory (its largest resident
set so far, on Linux), so the two can be compared; a FIFO in the folder freezes the ``--copy``
server.

    python3 -m examples.tutorial.step9_sendfile -d DIRECTORY 8000        # GET /NAME: DIRECTORY/NAME
"""

from __future__ import annotations

import os
import socket
import stat
import sys

from examples.tutorial import step4_states, step8_timers
from examples.tutorial.listen import listening_socket, log
from examples.tutorial.step5_sansio import Request, head, response
from examples.tutorial.step6_writequeue import SendQueue


class FileRange:
    __slots__ = ("fd", "offset", "remaining")

    def __init__(self, fd: int, offset: int, count: int) -> None:
        self.fd = fd
        self.offset = offset
        self.remaining = count


class FileSendQueue(SendQueue):
    """Bytes and file ranges, in order. The queue owns the files it holds and closes each once sent."""

    def push_file(self, fd: int, count: int) -> None:
        self.entries.append(FileRange(fd, 0, count))
        self.size += count

    def send_first(self, sock: socket.socket) -> tuple[int, bool]:
        first = self.entries[0]
        if not isinstance(first, FileRange):
            return super().send_first(sock)  # bytes, as in chapter 6
        sent = os.sendfile(sock.fileno(), first.fd, first.offset, first.remaining)
        if sent == 0:
            raise ConnectionError("the file is shorter than when it was opened")
        self.size -= sent
        first.offset += sent
        first.remaining -= sent
        whole = not first.remaining
        if whole:
            os.close(first.fd)
            self.entries.popleft()
        self.log_send(f"sendfile offset={first.offset - sent} bytes={sent}", whole)
        return sent, whole

    def clear(self) -> None:
        """Drop what is left, closing its files."""
        for entry in self.entries:
            if isinstance(entry, FileRange):
                os.close(entry.fd)
        self.entries.clear()
        self.size = 0


def peak_memory() -> int:
    """This program's largest resident set so far, in MiB: Linux's VmHWM. (getrusage's ru_maxrss
    would not do: Linux keeps in it the high-water mark of the process that started this one.)"""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM:"))


class Connection(step8_timers.Connection):
    server: Server
    outgoing: FileSendQueue  # type: ignore[assignment]  # as in chapter 6

    def new_queue(self) -> FileSendQueue:
        return FileSendQueue(self.name)

    def respond(self, request: Request) -> None:
        opened = self.open_file(request.target)
        if opened is None:
            self.not_found()
            return
        fd, size = opened
        waiting = bool(self.outgoing)
        self.outgoing.push(head(200, "OK", size, self.keep_alive))
        self.outgoing.push_file(fd, size)
        if waiting:
            log(f"{self.name} queue file bytes={size} queued={self.outgoing.size}")
        else:
            self.flush()  # nothing else was queued: start now

    def not_found(self) -> None:
        self.write(response(404, "Not Found", b"not found\n", self.keep_alive))

    def open_file(self, target: str) -> tuple[int, int] | None:
        """The open file a target names and its size, or None when there is no regular file there."""
        path = self.path(target)
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not make open() wait
        except OSError:
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # what was opened, not what the name is by now
            os.close(fd)
            return None
        return fd, info.st_size

    def path(self, target: str) -> str | None:
        """The path a target names: one plain name in the directory, nothing else (the real server's
        rules for paths are in handlers/static/paths.py)."""
        name = target.removeprefix("/")
        if not name or "/" in name or name.startswith(".") or "\\" in name:
            return None
        return os.path.join(self.server.directory, name)

    def close(self) -> None:
        if self.state is step4_states.State.CLOSED:
            return
        super().close()
        self.outgoing.clear()  # closes the files still queued
        log(f"{self.name} peak memory (max RSS) {peak_memory()} MiB")


class CopyingConnection(Connection):
    """``--copy``: chapter 6's way, to compare with: a plain open(), which waits for a writer when the
    name is a FIFO, the whole file read into memory, and its bytes written."""

    def respond(self, request: Request) -> None:
        path = self.path(request.target)
        try:
            if path is None:
                raise FileNotFoundError(request.target)
            with open(path, "rb") as file:
                body = file.read()
        except OSError:
            self.not_found()
            return
        self.write(response(200, "OK", body, self.keep_alive))


class Server(step8_timers.Server):
    connection_class: type[Connection] = Connection

    def __init__(
        self, listener: socket.socket, directory: str, request_timeout: float, send_timeout: float, copy: bool = False
    ) -> None:
        super().__init__(listener, request_timeout, send_timeout)
        self.directory = directory
        if copy:
            self.connection_class = CopyingConnection


def main(argv: list[str] | None = None) -> int:
    parser = step8_timers.timeout_arguments()
    parser.add_argument("-d", "--directory", default=os.getcwd(), help="directory to serve (default: here)")
    parser.add_argument("--copy", action="store_true", help="read each file into memory and send the bytes")
    listener, args = listening_socket(argv, "Chapter 9: file bodies with sendfile.", parser)
    if not os.path.isdir(args.directory):
        print(f"not a directory: {args.directory}", file=sys.stderr)
        return 2
    Server(listener, args.directory, args.request_timeout, args.send_timeout, args.copy).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
