"""A small raw HTTP/1.1 client for tests that need exact bytes, pipelining or odd requests."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    version: str = ""  # of the status line: HTTP/1.1, or HTTP/1.0 from a server speaking it

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class RawClient:
    """Sends bytes as given and reads responses back, with a deadline on every wait."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = bytearray()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(1 << 16)
        self.buffer += data
        return bool(data)

    def read_until_closed(self) -> bytes:
        """Everything until the server closes (or resets) the connection."""
        try:
            while self._fill():
                pass
        except ConnectionResetError:
            pass
        data, self.buffer = bytes(self.buffer), bytearray()
        return data

    def _take(self, count: int) -> bytes:
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def read_response(self, method: str = "GET") -> Response:
        """One response: head, then a body framed by Content-Length, chunked or the close."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionError(f"closed before a full head: {bytes(self.buffer)!r}")
        end = self.buffer.index(b"\r\n\r\n")
        head = self._take(end)
        del self.buffer[:4]
        lines = head.decode("latin-1").split("\r\n")
        version, status, reason = [*lines[0].split(" ", 2), ""][:3]
        fields = [tuple(line.split(": ", 1)) for line in lines[1:]]
        response = Response(int(status), reason, fields, version=version)  # type: ignore[arg-type]
        if method == "HEAD" or response.status in (204, 304) or response.status < 200:
            return response
        length = response.header("Content-Length")
        if response.header("Transfer-Encoding") == "chunked":
            response.body = self._read_chunked()
        elif length is not None:
            while len(self.buffer) < int(length):
                if not self._fill():
                    raise ConnectionError("closed inside a body")
            response.body = self._take(int(length))
        else:
            response.body = self.read_until_closed()
        return response

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            while b"\r\n" not in self.buffer:
                self._fill()
            line = self._take(self.buffer.index(b"\r\n") + 2)
            size = int(line.split(b";")[0], 16)
            while len(self.buffer) < size + 2:
                self._fill()
            parts.append(self._take(size))
            del self.buffer[:2]
            if size == 0:
                return b"".join(parts)

    def unread(self) -> bytes:
        """What the server sent beyond the responses read so far, without waiting: the buffer plus
        whatever the kernel already holds (b"" when nothing more has arrived)."""
        timeout = self.sock.gettimeout()
        # Non-blocking for this one recv: with a timeout set, Python polls before recv, MSG_DONTWAIT or not.
        self.sock.setblocking(False)
        try:
            self._fill()
        except (BlockingIOError, ConnectionResetError):
            pass
        finally:
            self.sock.settimeout(timeout)
        return bytes(self.buffer)

    def is_closed(self, timeout: float = 5) -> bool:
        """True once the server has closed the connection (EOF or reset) within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def request(port: int, data: bytes, method: str = "GET") -> Response:
    """One request on a new connection and its final response, which must be the last thing sent:
    a body after a bodiless response (HEAD, 204, 304: RFC 9110 6.4.1) fails here. A caller
    expecting more (pipelined requests, a 1xx before the final response) uses RawClient."""
    with RawClient(port) as client:
        client.send(data)
        response = client.read_response(method)
        extra = client.unread()
        assert not extra, f"{len(extra)} bytes after the response: {extra[:80]!r}"
        return response


def start_download(port: int, target: str) -> RawClient:
    """A GET of ``target`` on a connection with a small receive buffer, returned once the response head
    has arrived: a large body is then still in flight, held back because the client is not reading."""
    client = RawClient(port, timeout=30)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    client.send(f"GET {target} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    while b"\r\n\r\n" not in client.buffer:
        if not client._fill():
            raise ConnectionError(f"closed before a full head: {bytes(client.buffer)!r}")
    return client


def wait_until(predicate: Callable[[], object], timeout: float = 10, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
