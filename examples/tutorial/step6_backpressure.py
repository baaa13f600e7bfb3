"""Chapter 6: a write queue, short sends, and backpressure by water marks.

Chapter 4 waited for write readiness before every send and stopped reading until the answer was
out. Real answers can be larger than the kernel's send buffer, and a client may not read them. So:

- **Try the syscall first.** ``write`` sends at once; only what the kernel does not take (a short
  send) is queued, as a memoryview of the rest, and write interest is asked for only while bytes
  wait.
- **Read and write at once.** In READING the connection keeps reading (pipelined requests) while
  bytes are queued.
- **Backpressure.** When the queue passes the high-water mark the connection enters WRITING and
  stops reading, so a client that sends requests without reading the answers fills its own socket
  buffers, not our memory. At the low-water mark it reads again. Two marks, not one, so it does not
  flip between the states on every send.

The next state is a pure function, ``next_state``, of (state, bytes queued, closing).

    python -m examples.tutorial.step6_backpressure 8000       # then GET /big for 2 MiB
"""

from __future__ import annotations

import collections
import enum
import selectors
import socket
import sys
from typing import Any

from examples.tutorial.listen import listening_socket, log, name
from examples.tutorial.step5_sansio import NEED_DATA, ProtocolError, Request, RequestParser, response

HIGH_WATER = 64 * 1024  # asyncio's defaults
LOW_WATER = 16 * 1024
BIG = bytes(range(256)) * (8 * 1024)  # 2 MiB: more than the kernel's send buffer takes at once


class State(enum.Enum):
    READING = "reading"  # reads; writes while bytes are queued
    WRITING = "writing"  # above the high-water mark: writes only
    CLOSING = "closing"  # the last bytes leave, then closed
    CLOSED = "closed"


TRANSITIONS = {
    State.READING: {State.WRITING, State.CLOSING, State.CLOSED},
    State.WRITING: {State.READING, State.CLOSING, State.CLOSED},
    State.CLOSING: {State.CLOSED},
    State.CLOSED: set(),
}


def next_state(state: State, queued: int, closing: bool) -> State:
    """Where a connection in ``state`` goes, with ``queued`` bytes waiting and ``closing`` asked for."""
    if state is State.CLOSED:
        return state
    if closing:
        return State.CLOSING if queued else State.CLOSED
    if queued > (LOW_WATER if state is State.WRITING else HIGH_WATER):
        return State.WRITING
    return State.READING


class SendQueue:
    """Bytes the kernel has not taken yet, oldest first."""

    def __init__(self) -> None:
        self.entries: collections.deque[Any] = collections.deque()  # memoryviews; chapter 8 adds files
        self.size = 0

    def __bool__(self) -> bool:
        return bool(self.entries)

    def push(self, data: bytes | memoryview) -> None:
        self.entries.append(memoryview(data))
        self.size += len(data)

    def flush(self, sock: socket.socket) -> int:
        """Send as much as the socket takes now; return the bytes sent. Raises ConnectionError."""
        total = 0
        while self.entries:
            try:
                sent, done = self.send_first(sock)
            except BlockingIOError:
                break
            total += sent
            self.size -= sent
            if not done:
                break  # a short send: the socket buffer is full
            self.entries.popleft()
        return total

    def send_first(self, sock: socket.socket) -> tuple[int, bool]:
        """Send what the socket takes of the first entry: (bytes sent, whether all of it went)."""
        first = self.entries[0]
        sent = sock.send(first)
        if sent < len(first):
            self.entries[0] = first[sent:]  # the rest waits, without a copy
            return sent, False
        return sent, True


class Connection:
    def __init__(self, server: Server, sock: socket.socket, address: tuple[str, int]) -> None:
        self.server = server
        self.sock = sock
        self.name = name(address)
        self.parser = RequestParser()
        self.queue = self.new_queue()
        self.state = State.READING
        self.closing = False
        self.events = selectors.EVENT_READ
        server.selector.register(sock, self.events, self)

    def new_queue(self) -> SendQueue:
        return SendQueue()

    # -- reading --------------------------------------------------------------------------------

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except ConnectionError:
            self.close("peer reset")
            return
        log(f"{self.name} recv bytes={len(data)}")
        if not data:
            self.closing = True  # the peer is done: send what is queued, then close
            self.settle()
            return
        self.parser.receive_data(data)
        self.process()

    def process(self) -> None:
        """Answer the requests the parser holds, while the state allows reading."""
        while self.state is State.READING and not self.closing:
            try:
                event = self.parser.next_event()
            except ProtocolError as error:
                self.write(response(error.status, error.reason, error.reason.encode() + b"\n", False))
                self.closing = True
                break
            if event == NEED_DATA:
                break
            assert isinstance(event, Request)
            log(f"{self.name} request {event.method} {event.target}")
            self.closing = not event.keep_alive
            self.respond(event)
            self.answered()
            self.settle()  # past the high-water mark this leaves READING, and the loop stops
        self.settle()

    def respond(self, request: Request) -> None:
        body = BIG if request.target == "/big" else b"hello\n"
        self.write(response(200, "OK", body, not self.closing))

    def answered(self) -> None:
        """A request is answered (chapter 7 starts the wait for the next one here)."""

    # -- writing --------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send now as far as the kernel takes it; queue the rest."""
        self.queue.push(data)
        if len(self.queue.entries) == 1:  # nothing was waiting before: try at once
            self.flush()

    def flush(self) -> None:
        try:
            sent = self.queue.flush(self.sock)
        except ConnectionError:
            self.close("peer reset")
            return
        if self.queue:
            log(f"{self.name} short send sent={sent} queued={self.queue.size}")
        self.sent(sent)

    def sent(self, count: int) -> None:
        """Bytes left for the peer (chapter 7 restarts its send timer here)."""

    def on_writable(self) -> None:
        self.flush()
        self.settle()
        if self.state is State.READING:
            self.process()  # below the low-water mark: the requests that waited in the parser

    # -- the state machine ----------------------------------------------------------------------

    def settle(self) -> None:
        """Enter the state the table calls for, and make the selector's interest match it."""
        if self.state is State.CLOSED:
            return
        new = next_state(self.state, self.queue.size, self.closing)
        if new is State.CLOSED:
            self.close("done")
            return
        if new is not self.state:
            self.set_state(new)
        events = (selectors.EVENT_READ if self.state is State.READING else 0) | (
            selectors.EVENT_WRITE if self.queue else 0
        )
        if events != self.events:  # modify is a syscall: only when the mask changes
            self.server.selector.modify(self.sock, events, self)
            self.events = events

    def set_state(self, new: State) -> None:
        old = self.state
        if new not in TRANSITIONS[old]:
            raise RuntimeError(f"{self.name}: no transition from {old.value} to {new.value}")
        self.state = new
        log(f"{self.name} {old.value} -> {new.value} queued={self.queue.size}")
        if new is State.WRITING:
            log(f"{self.name} pause reading queued={self.queue.size} > {HIGH_WATER}")
        elif old is State.WRITING and new is State.READING:
            log(f"{self.name} resume reading queued={self.queue.size} <= {LOW_WATER}")

    def close(self, reason: str) -> None:
        """The one exit, whatever the reason."""
        if self.state is State.CLOSED:
            return
        self.set_state(State.CLOSED)
        log(f"{self.name} close {reason}")
        self.server.selector.unregister(self.sock)
        self.sock.close()


class Server:
    connection_class = Connection

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
        log(f"accepted {name(address)}")
        self.connection_class(self, sock, address)


def main(argv: list[str] | None = None) -> int:
    listener, _ = listening_socket(argv, "Chapter 6: a write queue, short sends and backpressure.")
    Server(listener).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
