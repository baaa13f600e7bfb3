"""What the echo examples share: their command line and a loop that runs until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import NoReturn, Protocol

from reactor.arguments import Parser, port_number
from reactor.loop.eventloop import EventLoop
from reactor.net.listener import bind
from reactor.net.stream import StreamProtocol, StreamServer


class Closable(Protocol):
    def close(self) -> None: ...


# Given the loop, a host and a port: start serving; return what to close and the address bound.
Starter = Callable[[EventLoop, str, int], tuple[Closable, tuple[str, int]]]


def command_line(module: str, what: str, default_port: int, *, with_bind: bool = True) -> Parser:
    """The parser of ``python -m module [-b ADDRESS] [port]`` (``[port]`` alone without
    ``with_bind``): as for the server, a bad value is one line on stderr and exit code 2."""
    parser = Parser(prog=f"python -m {module}", description=f"Serve {what} on the reactor.")
    parser.add_argument(
        "port", nargs="?", type=port_number, default=default_port, help=f"port (default: {default_port}; 0: any)"
    )
    if with_bind:
        parser.add_argument("-b", "--bind", default="127.0.0.1", metavar="ADDRESS", help="address (default: 127.0.0.1)")
    return parser


def cannot_serve(parser: Parser, host: str, port: int, error: OSError) -> NoReturn:
    """Exit with code 2 and one line saying why ``host`` port ``port`` cannot be served."""
    parser.error(f"cannot serve on {host} port {port}: {error.strerror or error}")


def run(argv: list[str] | None, *, module: str, what: str, default_port: int, start: Starter) -> int:
    """Parse ``[-b ADDRESS] [port]``, start serving, print where, run until a signal; return the exit
    code (exit code 2 with one line on stderr for a bad argument or an address that cannot be used)."""
    parser = command_line(module, what, default_port)
    args = parser.parse_args(argv)
    loop = EventLoop()
    try:
        server, (host, port) = start(loop, args.bind, args.port)
    except OSError as error:
        loop.close()
        cannot_serve(parser, args.bind, args.port, error)
    print(f"Serving {what} on {host} port {port} ...", flush=True)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()
    return 0


def stream_starter(protocol_factory: Callable[[], StreamProtocol]) -> Starter:
    """A Starter for a TCP server running ``protocol_factory()`` on each connection."""

    def start(loop: EventLoop, host: str, port: int) -> tuple[Closable, tuple[str, int]]:
        server = StreamServer(loop, [bind(host, port, 128)], protocol_factory)
        server.start()
        return server, server.addresses[0]

    return start
