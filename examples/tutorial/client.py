"""The tutorial's own client: one connection that behaves as a chapter needs, on raw sockets.

It prints one line per thing it does, each starting with ``client:`` so that its lines stand apart
from the server's when both write to the same terminal. With PATHs it asks ``GET PATH`` for each, one
after the other on the same connection (keep-alive), and prints each answer's status and size (and
its body, when that is a short line of text). What it can do besides, one option each:

    python3 -m examples.tutorial.client 8000 /a /b /c --pipeline   # all three in one send
    python3 -m examples.tutorial.client 8000 / / / --every 2       # a request every 2 s
    python3 -m examples.tutorial.client 8000 --silent 5            # connect and say nothing
    python3 -m examples.tutorial.client 8000 / --trickle 1         # one byte a second (slowloris)
    python3 -m examples.tutorial.client 8000 /big --read-after 2   # read nothing for 2 s
    python3 -m examples.tutorial.client 8000 --raw 'GET / HTTP/2.0\\r\\n\\r\\n'   # any bytes

It waits up to 5 s for the server to listen, so it can follow a server just started with ``&``.
A bad option is one line on stderr and exit code 2; the exit code is 1 when an answer did not come.
"""

from __future__ import annotations

import argparse
import re
import select
import socket
import sys
import time

from examples.tutorial.listen import Parser, log, name, seconds

BODY_SHOWN = 40  # a body up to this long, one line of text, is printed with its answer


class Closed(Exception):
    """The server closed the connection."""


def port(text: str) -> int:
    """A TCP port to connect to: 1 to 65535."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: 1 to 65535")
    return int(text)


def say(line: str) -> None:
    log(f"client: {line}")


class Client:
    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.timeout = timeout
        self.received = bytearray()  # bytes from the server not printed yet
        self.since = ("connecting", time.monotonic())  # the last thing that happened, for "closed" lines

    def fill(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for bytes from the server and keep them; False when none came.
        Raises Closed when the server closes the connection."""
        if not select.select([self.sock], [], [], max(seconds, 0))[0]:
            return False
        try:
            data = self.sock.recv(65536)
        except ConnectionError:
            data = b""
        if not data:
            raise Closed
        self.received += data
        return True

    def stay_silent(self, seconds: float) -> None:
        """Say nothing for ``seconds``, watching for the server to close the connection."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.fill(left)

    def send(self, data: bytes, trickle: float | None) -> None:
        """Send ``data`` whole, or one byte every ``trickle`` seconds."""
        try:
            if trickle is None:
                self.sock.sendall(data)
            else:
                for index in range(len(data)):
                    if index:
                        self.stay_silent(trickle)
                    self.sock.sendall(data[index : index + 1])
        except ConnectionError:
            raise Closed from None
        self.since = ("sending", time.monotonic())

    def read_answer(self) -> bool:
        """Read one answer and print it; False when the server went quiet for the timeout first."""
        while b"\r\n\r\n" not in self.received:
            if not self.fill(self.timeout):
                say(f"no answer within {self.timeout:g} s")
                return False
        head, _, rest = bytes(self.received).partition(b"\r\n\r\n")
        self.received[:] = rest
        status = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")[2]
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        size = int(length[1]) if length else None  # without one, the body ends at the close
        while size is None or len(self.received) < size:
            try:
                if not self.fill(self.timeout):
                    say(f"{status}, and then nothing for {self.timeout:g} s")
                    return False
            except Closed:
                if size is not None:
                    raise
                break
        body = bytes(self.received[:size])
        del self.received[: len(body)]
        self.since = ("the last answer", time.monotonic())
        text = body.decode("latin-1").removesuffix("\n")
        shown = f": {text}" if text and len(text) <= BODY_SHOWN and text.isprintable() else ""
        say(f"{status}, {len(body)} bytes{shown}")
        return True


def request(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def connect(port: int, wait: float = 5) -> socket.socket:
    """A connection to 127.0.0.1:port, trying again while nothing listens there yet."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port))
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # the server is still starting


Requests = list[tuple[str, bytes]]  # what to print for each request, and its bytes


def run(args: argparse.Namespace, requests: Requests) -> int:
    sock = connect(args.port)
    with sock:
        say(f"connected from {name(sock.getsockname())}")
        client = Client(sock, args.timeout)
        try:
            answered = talk(client, args, requests)
        except Closed:
            what, when = client.since
            say(f"closed by the server {time.monotonic() - when:.0f} s after {what}")
            return 1
        say("closing")
    return 0 if answered else 1


def talk(client: Client, args: argparse.Namespace, requests: Requests) -> bool:
    """Send ``requests`` as the options say and read the answers; False when one did not come."""
    if args.trickle is not None and requests:
        say(f"sending one byte every {args.trickle:g} s")
    if args.pipeline:
        client.send(b"".join(data for _, data in requests), args.trickle)
        say(f"sent {', '.join(label for label, _ in requests)} in one send")
        if not read_answers(client, len(requests), args.read_after):
            return False
    else:
        started = time.monotonic()
        for index, (label, data) in enumerate(requests):
            if index and args.every is not None:
                client.stay_silent(started + index * args.every - time.monotonic())
            client.send(data, args.trickle)
            say(f"sent {label}")
            if not read_answers(client, 1, args.read_after):
                return False
    if args.silent is not None:
        say(f"saying nothing for {args.silent:g} s")
        client.stay_silent(args.silent)
    return True


def read_answers(client: Client, count: int, read_after: float | None) -> bool:
    if read_after is not None:
        say(f"reading nothing for {read_after:g} s")
        time.sleep(read_after)  # not reading is the point: the server's sends fill the buffers
    return all(client.read_answer() for _ in range(count))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python3 -m examples.tutorial.client",
        description="The tutorial's client: one connection to 127.0.0.1:PORT that behaves as asked.",
    )
    parser.add_argument("port", type=port, help="the server's port on 127.0.0.1")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="GET these, in order, on one connection")
    parser.add_argument("--pipeline", action="store_true", help="send every request in one send")
    parser.add_argument("--every", type=seconds, metavar="S", help="send the requests S seconds apart")
    parser.add_argument("--trickle", type=seconds, metavar="S", help="send one byte every S seconds")
    parser.add_argument("--read-after", type=seconds, metavar="S", help="read nothing until S seconds after sending")
    parser.add_argument("--silent", type=seconds, metavar="S", help="then say nothing for S seconds before closing")
    parser.add_argument("--raw", metavar="TEXT", help="send TEXT instead of GET requests (\\r\\n written so)")
    parser.add_argument("--timeout", type=seconds, default=10.0, metavar="S", help="wait S s for an answer (10)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.raw is not None and args.paths:
        parser.error("--raw sends its own bytes: give no PATH with it")
    if args.pipeline and (not args.paths or args.every is not None):
        parser.error("--pipeline sends the PATHs' requests at once: it needs PATHs, and no --every")
    if args.raw is None:
        requests = [(f"GET {path}", request(path, args.port)) for path in args.paths]
    else:
        try:  # the escapes of a Python bytes literal: \r, \n, \t, \\, \xHH
            requests = [(args.raw, args.raw.encode("latin-1").decode("unicode_escape").encode("latin-1"))]
        except UnicodeError:
            parser.error(f"--raw: not Latin-1 text with \\r, \\n, \\xHH escapes: {args.raw!r}")
    try:
        return run(args, requests)
    except OSError as error:
        print(f"client: cannot talk to 127.0.0.1 port {args.port}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
