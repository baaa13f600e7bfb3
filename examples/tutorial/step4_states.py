"""Chapter 4: a connection object with its own read buffer and an explicit state machine.

Chapter 3 spread a connection over a dict and a closure. Here each connection is an object: its
socket, the bytes received and not yet used (``buffer``), the bytes to send (``outgoing``), and a
``state``. The state says what the connection waits for, and so what the selector watches: READING
waits for bytes (read interest), WRITING for the kernel to take the answer (write interest).
Every change of state goes through ``set_state``, which refuses a move the table does not list.

With a buffer that outlives one request, a connection can stay open (HTTP/1.1 keep-alive) and a
client may send several requests at once (pipelining): each complete head in the buffer is answered,
in order, and what follows the last one waits in the buffer for the rest of its bytes.

    python -m examples.tutorial.step4_states 8000
"""

from __future__ import annotations

import enum
import selectors
import socket
import sys

from examples.tutorial.listen import listening_socket, log, name


class State(enum.Enum):
    READING = "reading"
    WRITING = "writing"
    CLOSED = "closed"


TRANSITIONS = {
    State.READING: {State.WRITING, State.CLOSED},
    State.WRITING: {State.READING, State.CLOSED},
    State.CLOSED: set(),
}
INTEREST = {State.READING: selectors.EVENT_READ, State.WRITING: selectors.EVENT_WRITE}


def answer(head: bytes) -> tuple[bytes, bool]:
    """The response to a request head, and whether the connection stays open after it. A crude
    reading of the head: chapter 5 replaces it with a real parser."""
    request_line, _, fields = head.partition(b"\r\n")
    keep_alive = request_line.endswith(b"HTTP/1.1") and b"connection: close" not in fields.lower()
    body = request_line + b"\n"
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body),
        b"" if keep_alive else b"Connection: close\r\n",
        body,
    )
    return response, keep_alive


class Connection:
    def __init__(self, selector: selectors.BaseSelector, sock: socket.socket, address: tuple[str, int]) -> None:
        self.selector = selector
        self.sock = sock
        self.name = name(address)
        self.buffer = bytearray()
        self.outgoing = bytearray()
        self.keep_alive = True
        self.state = State.READING
        selector.register(sock, INTEREST[self.state], self)

    def set_state(self, new: State) -> None:
        """The one place the state changes; the selector's interest follows it."""
        if new not in TRANSITIONS[self.state]:
            raise RuntimeError(f"{self.name}: no transition from {self.state.value} to {new.value}")
        log(f"{self.name} {self.state.value} -> {new.value}")
        self.state = new
        if new is State.CLOSED:
            self.selector.unregister(self.sock)
            self.sock.close()
        else:
            self.selector.modify(self.sock, INTEREST[new], self)

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except ConnectionError:
            data = b""
        if not data:
            self.set_state(State.CLOSED)
            return
        self.buffer += data
        self.take_requests()
        if self.outgoing:
            self.set_state(State.WRITING)

    def take_requests(self) -> None:
        """Answer every complete request head in the buffer, in order."""
        while self.keep_alive and (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            log(f"{self.name} request {head.partition(b' HTTP/')[0].decode('latin-1')}")
            response, self.keep_alive = answer(head)
            self.outgoing += response

    def on_writable(self) -> None:
        try:
            sent = self.sock.send(self.outgoing)
        except BlockingIOError:
            return
        except ConnectionError:
            self.set_state(State.CLOSED)
            return
        del self.outgoing[:sent]
        if not self.outgoing:
            self.set_state(State.READING if self.keep_alive else State.CLOSED)


class Server:
    connection_class = Connection  # what each accepted socket becomes (chapter 5 changes it)

    def __init__(self, listener: socket.socket) -> None:
        self.selector = selectors.DefaultSelector()
        self.listener = listener
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, None)

    def run(self) -> None:
        while True:
            for key, events in self.selector.select():
                connection = key.data
                if connection is None:
                    self.accept()
                elif events & selectors.EVENT_READ:
                    connection.on_readable()
                else:
                    connection.on_writable()

    def accept(self) -> None:
        try:
            sock, address = self.listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        self.connection_class(self.selector, sock, address)
        log(f"accepted {name(address)}")


def main(argv: list[str] | None = None) -> int:
    listener, _ = listening_socket(argv, "Chapter 4: a connection object with a buffer and a state machine.")
    Server(listener).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
