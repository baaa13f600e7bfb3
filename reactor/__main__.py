"""``python -m reactor``: serve a directory, with the flags and defaults of ``python -m http.server``.

This module is the composition root: it parses the command line, binds the socket, builds the loop,
the static-files handler and the server, installs the signal handlers and runs the loop.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from typing import NoReturn

from handlers.static import StaticFiles
from reactor.accesslog import AccessLog
from reactor.limits import Limits
from reactor.listener import bind
from reactor.loop import EventLoop
from reactor.server import Server

PROG = "python -m reactor"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One clear line and exit code 2, instead of argparse's usage block."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def _port(text: str) -> int:
    try:
        port = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: not a number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: must be between 0 and 65535")
    return port


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Serve the files of a directory over HTTP/1.1.")
    parser.add_argument("port", nargs="?", type=_port, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument(
        "-b",
        "--bind",
        metavar="ADDRESS",
        help="address to listen on: IPv4, IPv6 or a host name (default: all addresses, IPv4 and IPv6)",
    )
    parser.add_argument(
        "-d", "--directory", default=os.getcwd(), help="directory to serve (default: the current directory)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print an access log line per request")
    parser.add_argument(
        "--grace",
        type=_positive,
        default=Limits.grace,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long responses in flight may take to finish (default: %(default)s)",
    )
    return parser


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    directory = os.path.abspath(args.directory)
    if not os.path.isdir(directory):
        parser.error(f"directory {args.directory!r} does not exist or is not a directory")
    limits = Limits(grace=args.grace)
    try:
        sock = bind(args.bind, args.port, limits.listen_backlog)
    except socket.gaierror as error:
        parser.error(f"cannot resolve address {args.bind!r}: {error.strerror}")
    except OSError as error:
        where = f"{args.bind or 'all addresses'} port {args.port}"
        parser.error(f"cannot listen on {where}: {error.strerror}")

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    loop = EventLoop()
    access_log = None if args.quiet else AccessLog(sys.stderr)
    server = Server(loop, [sock], StaticFiles(directory), limits, access_log)
    server.start()

    host, port = sock.getsockname()[:2]
    print(f"Serving HTTP on {host} port {port} (http://{_url_host(host)}:{port}/) ...", flush=True)

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        if server_stopping:
            print(f"{name} again: closing every connection now", file=sys.stderr, flush=True)
            server.close()
            loop.stop()
            return
        server_stopping.append(signum)
        print(f"{name} received: finishing responses in flight, then exiting", file=sys.stderr, flush=True)
        server.shutdown(on_stopped=loop.stop)

    server_stopping: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
