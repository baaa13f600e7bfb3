"""Chapter 4: a connection object with its own read buffer and an explicit state machine.

Chapter 3 spread a connection over a dict and a closure. Here each connection is an object: its
socket, the bytes received and not yet used (``buffer``), the bytes to send (``outgoing``), and a
``state``. The state says what the connection waits for, and so what the selector watches: READING
waits for a request (read interest), WRITING for the kernel to take the answer (write interest).
After every event, ``settle`` works out which state the connection's contents call for, and
``set_state``, the one place the state changes, refuses a move the table does not list.

With a buffer that outlives one request, a connection can stay open (HTTP/1.1 keep-alive) and a
client may send several requests at once (pipelining): the first whole request in the buffer is
answered, and the next waits in the buffer until that answer is out.

    python3 -m examples.tutorial.step4_states 8000
"""

from __future__ import annotations

import enum
import selectors
import socket
import sys

from examples.tutorial.listen import listening_socket, log, name


class State(enum.Enum):
    READING = "reading"  # waits for a request
    WRITING = "writing"  # waits for the kernel to take the answer: reads nothing meanwhile
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
    def __init__(self, server: Server, sock: socket.socket, address: tuple[str, int]) -> None:
        self.server = server
        self.sock = sock
        self.name = name(address)
        self.buffer = bytearray()  # received, not yet taken as a request
        self.outgoing = bytearray()  # to send
        self.keep_alive = True  # False once the last answer is decided
        self.requests = 0  # taken so far
        self.state = State.READING
        self.events = INTEREST[self.state]
        server.selector.register(sock, self.events, self)

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except ConnectionError:
            data = b""
        log(f"{self.name} recv bytes={len(data)}")
        if not data:
            self.keep_alive = False  # the client is done: send what is left, then close
            self.settle()
            return
        self.buffer += data
        self.take_requests()

    def take_requests(self) -> None:
        """Answer the whole requests in the buffer, in order, for as long as the state is READING."""
        while self.state is State.READING and (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            self.requests += 1
            log(f"{self.name} request {head.partition(b' HTTP/')[0].decode('latin-1')}")
            response, self.keep_alive = answer(head)
            self.write(response)
            self.settle()

    def write(self, data: bytes) -> None:
        self.outgoing += data  # sent once the socket is writable (chapter 6 sends at once)

    def on_writable(self) -> None:
        self.flush()
        self.settle()
        self.take_requests()  # back in READING, the next request may be in the buffer already

    def flush(self) -> None:
        """Send what the kernel takes of the outgoing bytes."""
        try:
            sent = self.sock.send(self.outgoing)
        except BlockingIOError:
            return
        except ConnectionError as error:
            log(f"{self.name} send failed: {error}")
            self.close()
            return
        del self.outgoing[:sent]
        log(f"{self.name} send bytes={sent}" + (f" short queued={len(self.outgoing)}" if self.outgoing else ""))

    # -- the state machine ----------------------------------------------------------------------

    def next_state(self) -> State:
        """The state the connection's contents call for."""
        if self.outgoing:
            return State.WRITING
        return State.READING if self.keep_alive else State.CLOSED

    def interest(self) -> int:
        """What the selector watches for in the current state."""
        return INTEREST[self.state]

    def settle(self) -> None:
        """Enter the state the connection's contents call for, and make the selector watch for what
        that state waits for (``modify`` is a syscall: only when that changes)."""
        if self.state is State.CLOSED:
            return  # a failed send closed it meanwhile
        new = self.next_state()
        if new is State.CLOSED:
            self.close()
            return
        if new is not self.state:
            self.set_state(new)
        events = self.interest()
        if events != self.events:
            self.server.selector.modify(self.sock, events, self)
            self.events = events

    def set_state(self, new: State) -> None:
        """The one place the state changes: a move the table does not list is a bug, said loudly."""
        if new not in TRANSITIONS[self.state]:
            raise RuntimeError(f"{self.name}: no transition from {self.state.value} to {new.value}")
        log(f"{self.name} {self.state.value} -> {new.value}")
        self.state = new

    def close(self) -> None:
        """The one exit, whatever the reason."""
        if self.state is State.CLOSED:
            return
        self.set_state(State.CLOSED)
        self.server.selector.unregister(self.sock)
        self.sock.close()


class Server:
    connection_class = Connection  # what each accepted socket becomes (later chapters extend it)

    def __init__(self, listener: socket.socket) -> None:
        self.selector = selectors.DefaultSelector()
        self.listener = listener
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, None)

    def run(self) -> None:
        while True:
            self.run_once(None)

    def run_once(self, timeout: float | None) -> None:
        """Wait at most ``timeout`` seconds (None: until something is ready), then handle what is."""
        for key, events in self.selector.select(timeout):
            connection = key.data
            if connection is None:
                self.accept()
                continue
            if events & selectors.EVENT_READ:
                connection.on_readable()
            if events & selectors.EVENT_WRITE and connection.state is not State.CLOSED:
                connection.on_writable()

    def accept(self) -> None:
        try:
            sock, address = self.listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        log(f"{name(address)} accepted")
        self.connection_class(self, sock, address)


def main(argv: list[str] | None = None) -> int:
    listener, _ = listening_socket(argv, "Chapter 4: a connection object with a buffer and a state machine.")
    Server(listener).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
