"""A UDP echo server, the counterpart of socketserver's UDPServer with a DatagramRequestHandler
(or a ``recvfrom``/``sendto`` loop): each datagram goes back to its sender.

    python -m examples.udp_echo [-b ADDRESS] [port]      # default 127.0.0.1 9999
    (a client in one line of Python: docs/seeds.md)
"""

from __future__ import annotations

import sys
from typing import Any

from examples.common import Closable, run
from reactor.loop.eventloop import EventLoop
from reactor.net.datagram import DatagramEndpoint, DatagramProtocol, bind_datagram


class UDPEcho(DatagramProtocol):
    def datagram_received(self, data: bytes, address: Any) -> None:
        self.transport.sendto(data, address)


def start(loop: EventLoop, host: str, port: int) -> tuple[Closable, tuple[str, int]]:
    endpoint = DatagramEndpoint(loop, bind_datagram(host, port), UDPEcho())
    return endpoint, endpoint.address


def main(argv: list[str] | None = None) -> int:
    return run(argv, module="examples.udp_echo", what="a UDP echo", default_port=9999, start=start)


if __name__ == "__main__":
    sys.exit(main())
