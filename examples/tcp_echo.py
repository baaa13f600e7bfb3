"""A line echo server, the counterpart of socketserver's TCPServer with a StreamRequestHandler whose
handle() reads a line with ``self.rfile.readline()`` and writes it back with ``self.wfile.write``.

Here no thread waits on readline: ``line_received`` is called for each complete line, on the loop,
for every client at once. A client that sends without reading gets paused (pause_writing ->
pause_reading) rather than filling the server's memory with its echo.

    python -m examples.tcp_echo [-b ADDRESS] [port]      # default 127.0.0.1 9999
    (a client in one line of Python: docs/seeds.md)
"""

from __future__ import annotations

import sys

from examples.common import run, stream_starter
from reactor.net.stream import LineProtocol


class LineEcho(LineProtocol):
    def line_received(self, line: bytes) -> None:
        self.transport.write(line)

    def pause_writing(self) -> None:
        self.transport.pause_reading()  # the client is not reading its echo: stop reading from it

    def resume_writing(self) -> None:
        self.transport.resume_reading()


def main(argv: list[str] | None = None) -> int:
    return run(
        argv, module="examples.tcp_echo", what="a TCP line echo", default_port=9999, start=stream_starter(LineEcho)
    )


if __name__ == "__main__":
    sys.exit(main())
