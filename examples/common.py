"""What the echo examples share: their command line and a loop that runs until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from typing import Protocol

from reactor.listener import bind
from reactor.loop import EventLoop
from reactor.stream import StreamProtocol, StreamServer


class Closable(Protocol):
    def close(self) -> None: ...


# Given the loop, a host and a port: start serving; return what to close and the address bound.
Starter = Callable[[EventLoop, str, int], tuple[Closable, tuple[str, int]]]


def run(argv: list[str] | None, *, what: str, default_port: int, start: Starter) -> int:
    """Parse ``[-b ADDRESS] [port]``, start serving, print where, run until a signal; return the exit
    code (2 with one line on stderr when the address cannot be used)."""
    parser = argparse.ArgumentParser(description=f"Serve {what} on the reactor.")
    parser.add_argument(
        "port", nargs="?", type=int, default=default_port, help=f"port (default: {default_port}; 0: any)"
    )
    parser.add_argument("-b", "--bind", default="127.0.0.1", metavar="ADDRESS", help="address (default: 127.0.0.1)")
    args = parser.parse_args(argv)
    loop = EventLoop()
    try:
        server, (host, port) = start(loop, args.bind, args.port)
    except (OSError, OverflowError) as error:
        message = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        print(f"cannot serve on {args.bind} port {args.port}: {message}", file=sys.stderr)
        loop.close()
        return 2
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
