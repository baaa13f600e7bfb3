"""``python -m loadtest.hotpath``: the Python cost of one request, with the sockets taken out.

One keep-alive ``GET`` of a cached 1 KiB file goes through the real transport, HTTP connection,
parser, static handler, exchange and writer; the socket's recv hands out the same request every time and its send
takes everything. What is left is what our code costs per request, measured in-process, without the
noise of the kernel and of a shared machine: the number to watch when changing the hot path
(docs/performance.md). The loop's own dispatch is not included.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import timeit
from pathlib import Path

from handlers.static.staticfiles import StaticFiles
from reactor.httpconnection import ConnectionConfig, HTTPConnection
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.transport import Transport

REQUEST = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"


class StubSocket:
    """Enough of a socket for a connection: recv always has the request, send takes all.
    The descriptor is a real socket's, so the selector accepts it."""

    def __init__(self, real: socket.socket, request: bytes) -> None:
        self._real = real
        self._request = request

    def recv(self, size: int) -> bytes:
        return self._request

    def send(self, data: bytes) -> int:
        return len(data)

    def fileno(self) -> int:
        return self._real.fileno()

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8000)

    def close(self) -> None:
        pass


def microseconds_per_request(requests: int, repeat: int, target: str = "/1k.bin") -> float:
    """The best of ``repeat`` timings of ``requests`` requests for ``target``, per request, in
    microseconds."""
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "1k.bin").write_bytes(bytes(range(256)) * 4)
        real, peer = socket.socketpair()
        loop = EventLoop()
        limits = Limits()
        connection = HTTPConnection(ConnectionConfig(StaticFiles(root), limits))
        sock = StubSocket(real, REQUEST % target.encode())
        transport = Transport(loop, sock, ("127.0.0.1", 40000), connection, limits)  # type: ignore[arg-type]
        transport.start()
        best = min(timeit.repeat(transport.on_readable, number=requests, repeat=repeat))
        transport.abort("done")
        loop.close()
        real.close()
        peer.close()
    return best / requests * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.hotpath", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per timing (%(default)s)")
    parser.add_argument("--repeat", type=int, default=15, help="timings, the best one counts (%(default)s)")
    parser.add_argument("--target", default="/1k.bin", help="what to ask for (%(default)s; /missing for a 404)")
    args = parser.parse_args(argv)
    print(f"{microseconds_per_request(args.requests, args.repeat, args.target):.2f} us of Python per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
