"""Chapter 8: ``sendfile``: file bodies go from the page cache to the socket without Python.

Reading a file into bytes and sending those costs a copy into Python and memory for the whole body.
``os.sendfile(socket, file, offset, count)`` asks the kernel to copy straight from the file to the
socket, as far as the socket buffer takes it, and returns how much it moved. So a file body in the
send queue is not bytes but a ``FileRange`` (file, offset, bytes left): each flush moves the offset
on. The head goes in front as bytes, in the same queue, so the order on the wire is the order of
``write`` calls. Backpressure and timers are unchanged from chapters 6 and 7: a range counts its
bytes left in the queue's size.

    python -m examples.tutorial.step8_sendfile -d DIRECTORY 8000      # GET /NAME for DIRECTORY/NAME
"""

from __future__ import annotations

import os
import socket
import stat
import sys
from typing import BinaryIO

from examples.tutorial import step7_timers
from examples.tutorial.listen import listening_socket, log
from examples.tutorial.step5_sansio import Request, response
from examples.tutorial.step6_backpressure import SendQueue


class FileRange:
    __slots__ = ("file", "offset", "remaining")

    def __init__(self, file: BinaryIO, offset: int, count: int) -> None:
        self.file = file
        self.offset = offset
        self.remaining = count


class FileSendQueue(SendQueue):
    """Bytes and file ranges, in order. The queue owns the files it holds and closes each once sent."""

    def push_file(self, file: BinaryIO, count: int) -> None:
        self.entries.append(FileRange(file, 0, count))
        self.size += count

    def send_first(self, sock: socket.socket) -> tuple[int, bool]:
        first = self.entries[0]
        if not isinstance(first, FileRange):
            return super().send_first(sock)
        sent = os.sendfile(sock.fileno(), first.file.fileno(), first.offset, first.remaining)
        if sent == 0:
            raise ConnectionError(f"{first.file.name!r} is shorter than when it was opened")
        log(f"sendfile offset={first.offset} sent={sent}")
        first.offset += sent
        first.remaining -= sent
        if first.remaining:
            return sent, False  # the socket buffer is full
        first.file.close()
        return sent, True

    def clear(self) -> None:
        for entry in self.entries:
            if isinstance(entry, FileRange):
                entry.file.close()
        self.entries.clear()
        self.size = 0


class Connection(step7_timers.Connection):
    server: Server
    queue: FileSendQueue

    def new_queue(self) -> FileSendQueue:
        return FileSendQueue()

    def respond(self, request: Request) -> None:
        keep_alive = not self.closing
        file = self.open(request.target)
        if file is None:
            self.write(response(404, "Not Found", b"not found\n", keep_alive))
            return
        size = os.fstat(file.fileno()).st_size
        head = response(200, "OK", b"", keep_alive).replace(b"Content-Length: 0", b"Content-Length: %d" % size)
        idle = not self.queue
        self.queue.push(head)
        self.queue.push_file(file, size)
        if idle:
            self.flush()  # nothing else was waiting: start now

    def open(self, target: str) -> BinaryIO | None:
        """The file a target names: one plain name in the directory, nothing else (the real server's
        rules for paths are in handlers/paths.py)."""
        name = target.removeprefix("/")
        if not name or "/" in name or name.startswith(".") or "\\" in name:
            return None
        try:
            # O_NONBLOCK: open() of a FIFO waits for a writer, and would stop the whole loop.
            fd = os.open(os.path.join(self.server.directory, name), os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            return None
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # what was opened, not what the name is now
            os.close(fd)
            return None
        return os.fdopen(fd, "rb")  # the send queue closes it once sent

    def close(self, reason: str) -> None:
        self.queue.clear()  # closes the files still queued
        super().close(reason)


class Server(step7_timers.Server):
    connection_class = Connection

    def __init__(self, listener: socket.socket, directory: str, request_timeout: float, send_timeout: float) -> None:
        super().__init__(listener, request_timeout, send_timeout)
        self.directory = directory


def main(argv: list[str] | None = None) -> int:
    parser = step7_timers.timeout_arguments()
    parser.add_argument("-d", "--directory", default=os.getcwd(), help="directory to serve (default: here)")
    listener, args = listening_socket(argv, "Chapter 8: file bodies with sendfile.", parser)
    if not os.path.isdir(args.directory):
        print(f"not a directory: {args.directory}", file=sys.stderr)
        return 2
    Server(listener, args.directory, args.request_timeout, args.send_timeout).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
