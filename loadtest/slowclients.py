"""Hostile but legitimate clients on raw sockets: a slow reader and a slow sender.

They only do the I/O and hand back what they received; the locustfile checks it like any response.
Plain blocking sockets and ``time.sleep``: under locust, gevent's monkey-patching makes them cooperative.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from loadtest import rawhttp


@dataclass(frozen=True)
class Received:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes  # as much of the body as was read
    waited: float  # seconds from the end of the request to the end of the response head


@dataclass(frozen=True)
class Origin:
    host: str
    port: int

    @classmethod
    def of(cls, base_url: str) -> Origin:
        """Raises ValueError for anything but a plain http:// URL."""
        url = urlsplit(base_url)
        if url.scheme != "http" or url.hostname is None:
            raise ValueError(f"raw-socket clients speak plain http only, not {base_url!r}")
        return cls(url.hostname, url.port or 80)

    def request(self, path: str) -> bytes:
        # identity: the body must be the file's own bytes, to compare with the site.
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{self.port}\r\nUser-Agent: loadtest-hostile\r\n"
            "Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
        ).encode("ascii")

    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET


def slow_read(
    origin: Origin, path: str, seconds: float, chunk: int = 8192, interval: float = 0.05, timeout: float = 30.0
) -> Received:
    """Ask for ``path`` and read it ``chunk`` bytes per ``interval`` through a small receive window for
    ``seconds``, then hang up. A large file keeps the server's socket buffer full all along: it must
    wait for writability (backpressure), then see the connection go. Raises rawhttp.BadResponse or OSError."""
    with socket.socket(origin.family()) as sock:
        sock.settimeout(timeout)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)  # before connect: sets the window
        sock.connect((origin.host, origin.port))
        sock.sendall(origin.request(path))
        sent = time.monotonic()
        status, headers, first = rawhttp.read_head(sock, chunk)
        waited = time.monotonic() - sent
        body = bytearray(first)
        length = rawhttp.content_length(headers)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(body) != length:
            time.sleep(interval)
            data = sock.recv(chunk)
            if not data:
                raise rawhttp.BadResponse(
                    f"connection closed after {len(body)} body bytes, while the client was reading"
                )
            body += data
        return Received(status, headers, bytes(body), waited)


def slow_send(origin: Origin, path: str, chunk: int = 8, interval: float = 0.1, timeout: float = 30.0) -> Received:
    """Send the request head ``chunk`` bytes per ``interval`` (a slowloris that does finish), then read
    the whole answer at full speed. Raises rawhttp.BadResponse or OSError."""
    request = origin.request(path)
    with socket.create_connection((origin.host, origin.port), timeout=timeout) as sock:
        for start in range(0, len(request), chunk):
            if start:
                time.sleep(interval)
            sock.sendall(request[start : start + chunk])
        sent = time.monotonic()
        status, headers, first = rawhttp.read_head(sock, 1 << 16)
        waited = time.monotonic() - sent
        body = rawhttp.read_body(sock, first, rawhttp.content_length(headers), 1 << 16)
        return Received(status, headers, body, waited)  # a body cut short is the caller's to see
