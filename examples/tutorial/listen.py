"""What every tutorial program shares: ``[port]`` on the command line, a socket listening on
127.0.0.1, and one line per event on stdout (the tests read those lines, and so can you)."""

from __future__ import annotations

import argparse
import math
import socket
import sys
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One clear line and exit code 2, instead of argparse's usage block."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def listening_socket(
    argv: list[str] | None, description: str, parser: argparse.ArgumentParser | None = None
) -> tuple[socket.socket, argparse.Namespace]:
    """Parse ``[port]`` (plus what ``parser`` adds), listen on 127.0.0.1 and print where. A port that
    cannot be used is one line on stderr and exit code 2."""
    parser = parser or Parser()
    parser.description = description
    parser.add_argument("port", nargs="?", type=int, default=8000, help="port on 127.0.0.1 (default: 8000; 0: any)")
    args = parser.parse_args(argv)
    try:
        listener = socket.create_server(("127.0.0.1", args.port))
    except (OSError, OverflowError) as error:
        print(f"cannot listen on 127.0.0.1 port {args.port}: {error}", file=sys.stderr)
        sys.exit(2)
    port = listener.getsockname()[1]
    log(f"listening on 127.0.0.1 port {port} (http://127.0.0.1:{port}/)")
    return listener, args


def seconds(text: str) -> float:
    """An option's number of seconds, more than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds more than zero")
    return value


def log(line: str) -> None:
    """One line on stdout, at once, in one write: other programs may share the terminal, and a
    line written in two pieces could be cut by one of theirs (``python -u`` writes each piece)."""
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def name(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


HELLO = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n"
