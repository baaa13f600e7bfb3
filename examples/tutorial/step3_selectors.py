"""Chapter 3: non-blocking sockets and ``selectors``: one thread waits for every client at once.

The sockets are non-blocking: ``recv`` returns what is there or raises BlockingIOError, it never
waits. The only place the program waits is ``selector.select()``, which returns the sockets that are
ready. Each registered socket carries the function to call when it is ready (``key.data``). Since a
request can now arrive in pieces between two selects, each client needs somewhere to keep what it has
sent so far: a buffer per connection.

    python3 -m examples.tutorial.step3_selectors 8000
"""

from __future__ import annotations

import selectors
import socket
import sys
import threading
from functools import partial

from examples.tutorial.listen import HELLO, listening_socket, log, name


class Server:
    def __init__(self, listener: socket.socket) -> None:
        self.selector = selectors.DefaultSelector()
        self.buffers: dict[socket.socket, bytearray] = {}
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, partial(self.accept, listener))

    def run(self) -> None:
        while True:
            for key, _events in self.selector.select():  # the one place that waits
                key.data()

    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except BlockingIOError:
            return  # another process or an earlier accept took it
        client.setblocking(False)
        self.buffers[client] = bytearray()
        self.selector.register(client, selectors.EVENT_READ, partial(self.read, client, address))
        log(f"{name(address)} accepted threads={threading.active_count()}")  # one, whatever the clients

    def read(self, client: socket.socket, address: tuple[str, int]) -> None:
        try:
            data = client.recv(65536)
        except BlockingIOError:
            return
        except ConnectionError:
            data = b""
        if not data:
            log(f"{name(address)} closed before a whole request")
            self.close(client)
            return
        buffer = self.buffers[client]
        buffer += data
        if b"\r\n\r\n" in buffer:
            # A small answer fits in the kernel's send buffer: send() takes it all. Chapter 6 deals
            # with the answers that do not fit.
            client.send(HELLO)
            log(f"{name(address)} answered")
            self.close(client)

    def close(self, client: socket.socket) -> None:
        self.selector.unregister(client)
        del self.buffers[client]
        client.close()


def main(argv: list[str] | None = None) -> int:
    listener, _ = listening_socket(argv, "Chapter 3: non-blocking sockets and one selector.")
    Server(listener).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
