"""Chapter 5: HTTP parsing without I/O ("sans-IO"), fed bytes in whatever pieces TCP delivers.

The parser never touches a socket: ``receive_data`` takes bytes, ``next_event`` returns a complete
``Request`` or ``NEED_DATA``, and bad input raises ``ProtocolError`` carrying the status to answer.
So it can be tested by feeding it a request whole, byte by byte, or split at every index, with no
server running, and the same object works under any I/O: the selector loop here, a test, a fuzzer.

The connection of chapter 4 keeps its states and loop; only ``take_requests`` changes: it feeds the
parser and answers its events, and ``respond`` writes each answer.

    python3 -m examples.tutorial.step5_sansio 8000
"""

from __future__ import annotations

import re
import socket
import sys
from dataclasses import dataclass, field

from examples.tutorial import step4_states
from examples.tutorial.listen import listening_socket, log
from examples.tutorial.step4_states import State

MAX_HEAD = 8192
REQUEST_LINE = re.compile(rb"([A-Z]+) (\S+) HTTP/(\d)\.(\d)")
FIELD_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 5.6.2: a token
NEED_DATA = "NEED_DATA"


class ProtocolError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    @property
    def keep_alive(self) -> bool:
        """RFC 9112 9.3: HTTP/1.1 persists unless told ``close``; HTTP/1.0 only when asked."""
        connection = (self.header("connection") or "").lower()
        return "keep-alive" in connection if self.version == "1.0" else "close" not in connection


class RequestParser:
    """Bytes in, requests out. One request at a time: its head, then its Content-Length body."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.pending: Request | None = None  # a head parsed, its body still arriving
        self.body_length = 0

    def receive_data(self, data: bytes) -> None:
        self.buffer += data

    def next_event(self) -> Request | str:
        """A complete request, or NEED_DATA. Raises ProtocolError for bytes that are not HTTP."""
        if self.pending is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    raise ProtocolError(431, "request head too large")
                return NEED_DATA
            if end > MAX_HEAD:
                raise ProtocolError(431, "request head too large")
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            self.pending, self.body_length = self._parse_head(head)
        if len(self.buffer) < self.body_length:
            return NEED_DATA
        request, self.pending = self.pending, None
        request.body = bytes(self.buffer[: self.body_length])
        del self.buffer[: self.body_length]
        return request

    def _parse_head(self, head: bytes) -> tuple[Request, int]:
        request_line, *lines = head.split(b"\r\n")
        match = REQUEST_LINE.fullmatch(request_line)
        if match is None:
            raise ProtocolError(400, "malformed request line")
        method, target, major, minor = (part.decode("ascii") for part in match.groups())
        if major != "1" or minor not in "01":
            raise ProtocolError(505, "HTTP version not supported")
        request = Request(method, target, f"{major}.{minor}")
        for line in lines:
            key, colon, value = line.partition(b":")
            if not colon or FIELD_NAME.fullmatch(key) is None:
                raise ProtocolError(400, "malformed header field")  # also RFC 9112 5.1: no space before ':'
            request.headers.append((key.decode("ascii").lower(), value.strip(b" \t").decode("latin-1")))
        if request.header("transfer-encoding") is not None:
            raise ProtocolError(501, "Transfer-Encoding is not implemented here")
        length = request.header("content-length") or "0"
        if not length.isdigit():
            raise ProtocolError(400, "bad Content-Length")
        return request, int(length)


def head(status: int, reason: str, length: int, keep_alive: bool) -> bytes:
    """A response head for a body of ``length`` bytes."""
    text = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {length}\r\n"
    return (text + ("" if keep_alive else "Connection: close\r\n") + "\r\n").encode("latin-1")


def response(status: int, reason: str, body: bytes, keep_alive: bool) -> bytes:
    return head(status, reason, len(body), keep_alive) + body


class Connection(step4_states.Connection):
    def __init__(self, server: step4_states.Server, sock: socket.socket, address: tuple[str, int]) -> None:
        super().__init__(server, sock, address)
        self.parser = RequestParser()

    def take_requests(self) -> None:
        """Feed the parser what arrived, and answer its requests for as long as the state is READING."""
        self.parser.receive_data(bytes(self.buffer))
        self.buffer.clear()
        while self.state is State.READING:
            try:
                event = self.parser.next_event()
            except ProtocolError as error:
                log(f"{self.name} error {error}")
                self.keep_alive = False  # after bytes that are not HTTP, nothing on this connection can be trusted
                self.write(response(error.status, error.reason, error.reason.encode() + b"\n", False))
                self.settle()
                return
            if event == NEED_DATA:
                return
            assert isinstance(event, Request)
            self.requests += 1
            log(f"{self.name} request {event.method} {event.target}")
            self.keep_alive = event.keep_alive
            self.respond(event)
            self.settle()

    def respond(self, request: Request) -> None:
        """Write the answer to ``request`` (later chapters answer with more than an echo)."""
        body = f"{request.method} {request.target} body={len(request.body)}\n".encode()
        self.write(response(200, "OK", body, self.keep_alive))


class Server(step4_states.Server):
    connection_class = Connection


def main(argv: list[str] | None = None) -> int:
    listener, _ = listening_socket(argv, "Chapter 5: a sans-IO HTTP parser under the chapter 4 loop.")
    Server(listener).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
