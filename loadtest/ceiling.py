"""``python -m loadtest.ceiling DOCROOT PORT``: the floor of what CPython pays per request on this
machine, as a benchmark peer (``python -m loadtest.bench --peer ceiling``).

One ``selectors`` loop, non-blocking sockets, one ``recv`` and one ``send`` per read, and answers made
before the first request: every regular file up to 1 MiB under DOCROOT, and a plain list of each
directory's names, as whole responses (status line, Content-Length, Connection). A request is answered
by finding the blank line that ends its head and the target in its first line; nothing else is parsed
or checked (no fields, no path rules, no Date, no Range). So the difference between this and the real
server is what our layers and our HTTP/1.1 rules cost, and the difference between this and nginx is
what CPython costs at all.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import selectors
import signal
import socket
import sys
from pathlib import Path

MAX_FILE = 1024 * 1024  # larger files are not held in memory: their requests get a 404
MAX_HEAD = 64 * 1024  # a connection whose head grows past this without ending is closed


def _response(status: bytes, body: bytes, keep_alive: bool) -> bytes:
    connection = b"keep-alive" if keep_alive else b"close"
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n%s" % (status, len(body), connection, body)


def answers(docroot: Path) -> dict[bytes, tuple[bytes, bytes]]:
    """Each URL path under ``docroot`` -> its whole response, kept alive and closing."""
    made: dict[bytes, tuple[bytes, bytes]] = {}
    for directory, names, files in os.walk(docroot):
        folder = Path(directory)
        url = "/" + folder.relative_to(docroot).as_posix().strip(".").strip("/")
        prefix = url if url.endswith("/") else url + "/"
        listing = "".join(f"<a href='{name}'>{name}</a>\n" for name in sorted(names + files)).encode()
        made[prefix.encode()] = (_response(b"200 OK", listing, True), _response(b"200 OK", listing, False))
        for name in files:
            path = folder / name
            if path.is_file() and path.stat().st_size <= MAX_FILE:
                body = path.read_bytes()
                made[(prefix + name).encode()] = (_response(b"200 OK", body, True), _response(b"200 OK", body, False))
    return made


class Ceiling:
    def __init__(self, sock: socket.socket, docroot: Path) -> None:
        self.selector = selectors.DefaultSelector()
        self.listener = sock
        self.answers = answers(docroot)
        not_found = b"not found\n"
        self.not_found = (_response(b"404 Not Found", not_found, True), _response(b"404 Not Found", not_found, False))
        self.buffers: dict[socket.socket, bytes] = {}
        self.unsent: dict[socket.socket, bytes] = {}
        self.selector.register(sock, selectors.EVENT_READ, self.accept)

    def accept(self, sock: socket.socket) -> None:
        for _ in range(64):
            try:
                conn, _address = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffers[conn] = b""
            self.selector.register(conn, selectors.EVENT_READ, self.read)

    def read(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close(conn)
            return
        buffer = self.buffers[conn] + data if self.buffers[conn] else data
        out = []
        start = 0
        close = False
        while (end := buffer.find(b"\r\n\r\n", start)) >= 0:
            line_end = buffer.find(b"\r\n", start)
            first = buffer.find(b" ", start, line_end) + 1
            target = buffer[first : buffer.find(b" ", first, line_end)]
            close = buffer.find(b"\r\nConnection: close", line_end, end + 2) >= 0
            out.append(self.answers.get(target, self.not_found)[close])
            start = end + 4
            if close:
                break
        rest = buffer[start:]
        if len(rest) > MAX_HEAD:
            self.close(conn)
            return
        self.buffers[conn] = rest
        if out:
            self.send(conn, out[0] if len(out) == 1 else b"".join(out))
        if close and conn not in self.unsent:
            self.close(conn)

    def send(self, conn: socket.socket, data: bytes) -> None:
        try:
            sent = conn.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.close(conn)
            return
        if sent < len(data):
            # The peer is not taking it: stop reading until it has (the whole of backpressure here).
            self.unsent[conn] = data[sent:]
            self.selector.modify(conn, selectors.EVENT_WRITE, self.write)

    def write(self, conn: socket.socket) -> None:
        data = self.unsent.pop(conn)
        self.selector.modify(conn, selectors.EVENT_READ, self.read)
        self.send(conn, data)

    def close(self, conn: socket.socket) -> None:
        self.selector.unregister(conn)
        self.buffers.pop(conn, None)
        self.unsent.pop(conn, None)
        conn.close()

    def run(self) -> None:
        while True:
            for key, _mask in self.selector.select():
                key.data(key.fileobj)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.ceiling", description=__doc__.split("\n")[0])
    parser.add_argument("docroot", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    args = parser.parse_args(argv)
    if not args.docroot.is_dir():
        parser.error(f"no such directory: {args.docroot}")
    sock = socket.create_server((args.bind, args.port), backlog=1024, reuse_port=False)
    sock.setblocking(False)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        Ceiling(sock, args.docroot).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
