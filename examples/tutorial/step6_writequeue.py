"""Chapter 6: a write queue: try the send first, and queue only what the kernel did not take.

Chapter 4 waited for write readiness before every send, and read nothing until the answer was out:
a select round per answer, and pipelined requests waiting behind each one. Here:

- **Try the syscall first.** ``write`` sends at once. The kernel takes what fits in the socket's
  send buffer; a *short send* takes less than offered, and only the rest is queued, as a
  memoryview of it (no copy). Write interest is asked for only while bytes wait.
- **Read and write at once.** The connection stays in READING while its queue drains, so it keeps
  reading and answering pipelined requests; their answers queue behind, in order. WRITING is left
  for the end: after the last answer, the queued bytes leave, then the connection closes.

So that a short send happens on loopback too (where the kernel grows a socket's send buffer to
megabytes), each connection's send buffer is fixed at 64 KiB, and ``/big`` answers 1 MiB.

    python3 -m examples.tutorial.step6_writequeue 8000
"""

from __future__ import annotations

import collections
import selectors
import socket
import sys
from typing import Any

from examples.tutorial import step4_states, step5_sansio
from examples.tutorial.listen import listening_socket, log
from examples.tutorial.step4_states import State
from examples.tutorial.step5_sansio import Request, response

SEND_BUFFER = 64 * 1024  # SO_SNDBUF (Linux doubles it for its bookkeeping)
BIG = bytes(range(256)) * 4096  # 1 MiB: many times what the send buffer takes at once


class SendQueue:
    """Bytes the kernel has not taken yet, oldest first, and how many. Each send is logged under
    the connection's name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.entries: collections.deque[Any] = collections.deque()  # memoryviews; chapter 9 adds files
        self.size = 0

    def __bool__(self) -> bool:
        return bool(self.entries)

    def push(self, data: bytes | memoryview) -> None:
        self.entries.append(memoryview(data))
        self.size += len(data)

    def send_first(self, sock: socket.socket) -> tuple[int, bool]:
        """Send what the socket takes of the first entry: (bytes sent, whether the whole entry went).
        Raises BlockingIOError when it takes nothing, ConnectionError when the peer is gone."""
        first = self.entries[0]
        sent = sock.send(first)
        self.size -= sent
        whole = sent == len(first)
        if whole:
            self.entries.popleft()
        else:
            self.entries[0] = first[sent:]  # the rest waits, without a copy
        self.log_send(f"send bytes={sent}", whole)
        return sent, whole

    def log_send(self, what: str, whole: bool) -> None:
        log(f"{self.name} {what}" + ("" if whole else f" short queued={self.size}"))


class Connection(step5_sansio.Connection):
    outgoing: SendQueue  # type: ignore[assignment]  # the bytearray of chapter 4 becomes a queue

    def __init__(self, server: step4_states.Server, sock: socket.socket, address: tuple[str, int]) -> None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        super().__init__(server, sock, address)
        self.outgoing = self.new_queue()

    def new_queue(self) -> SendQueue:
        return SendQueue(self.name)

    def respond(self, request: Request) -> None:
        if request.target == "/big":
            self.write(response(200, "OK", BIG, self.keep_alive))
        else:
            super().respond(request)

    def write(self, data: bytes) -> None:
        """Send now as far as the kernel takes it; queue the rest. Behind bytes already waiting,
        the new ones wait too: the order on the wire is the order of the writes."""
        waiting = bool(self.outgoing)
        self.outgoing.push(data)
        if waiting:
            log(f"{self.name} queue bytes={len(data)} queued={self.outgoing.size}")
        else:
            self.flush()

    def flush(self) -> None:
        """Send queued bytes until the kernel takes no more (a short send) or none are left."""
        while self.outgoing:
            try:
                sent, whole = self.outgoing.send_first(self.sock)
            except BlockingIOError:
                return
            except ConnectionError as error:
                log(f"{self.name} send failed: {error}")
                self.close()
                return
            self.sent(sent)
            if not whole:
                return  # the send buffer is full: the rest goes when the socket is writable again

    def sent(self, count: int) -> None:
        """``count`` bytes left for the peer (chapter 8 restarts its send timer here)."""

    def next_state(self) -> State:
        if self.keep_alive:
            return State.READING  # reading goes on while the queue drains
        return State.WRITING if self.outgoing else State.CLOSED  # the last answer leaves, then close

    def interest(self) -> int:
        """Read while READING; write while bytes are queued, whatever the state."""
        return (selectors.EVENT_READ if self.state is State.READING else 0) | (
            selectors.EVENT_WRITE if self.outgoing else 0
        )


class Server(step5_sansio.Server):
    connection_class = Connection


def main(argv: list[str] | None = None) -> int:
    listener, _ = listening_socket(argv, "Chapter 6: a write queue and short sends.")
    Server(listener).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
