"""Chapter 1: a blocking server, the shape of socketserver.TCPServer and the seed servers.

One client at a time: ``accept`` waits for a connection, ``recv`` waits for its bytes, ``sendall``
waits for the kernel to take the answer. While it waits for one client, nobody else is served: a
client that sends its request slowly (or not at all) stalls everyone behind it.

    python3 -m examples.tutorial.step1_blocking 8000
"""

from __future__ import annotations

import socket
import sys

from examples.tutorial.listen import HELLO, listening_socket, log, name


def handle(client: socket.socket, address: tuple[str, int]) -> None:
    """Read until the blank line that ends a request head, answer, close."""
    received = b""
    with client:
        while b"\r\n\r\n" not in received:
            data = client.recv(65536)  # blocks until this client sends something
            if not data:
                log(f"{name(address)} closed before a whole request")
                return
            received += data
        client.sendall(HELLO)
        log(f"{name(address)} answered")


def serve(listener: socket.socket) -> None:
    while True:
        client, address = listener.accept()  # blocks until a client connects
        log(f"{name(address)} accepted")
        handle(client, address)


def main(argv: list[str] | None = None) -> int:
    listener, _ = listening_socket(argv, "Chapter 1: a blocking HTTP server, one client at a time.")
    serve(listener)
    return 0


if __name__ == "__main__":
    sys.exit(main())
