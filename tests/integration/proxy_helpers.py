"""Backends for the reverse proxy's tests, all on loopback: our own server with a handler that echoes
what reached it, a raw one that records the exact bytes it read and answers with whatever bytes a test
scripts (faults included), and the proxy itself as a LiveServer."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from handlers.proxy.reverseproxy import ReverseProxy, parse_backend
from handlers.router import PrefixRouter
from reactor.exchange import Exchange, Handler
from reactor.limits import Limits
from tests.conftest import LiveServer


class Proxy:
    """A LiveServer whose requests under each prefix go to a backend URL (``routes``), the others to
    ``fallback``; ``proxies`` are the ReverseProxy handlers, built on the server's loop."""

    def __init__(self, routes: dict[str, str], fallback: Handler | None = None, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._handler: Handler | None = None
        self.server = LiveServer(self._handle, self.limits)
        self.proxies = {
            prefix: ReverseProxy(self.server.loop, prefix, parse_backend(url), self.limits)
            for prefix, url in routes.items()
        }
        self._handler = PrefixRouter(list(self.proxies.items()), fallback or _not_proxied)
        self.port = self.server.port

    def _handle(self, exchange: Exchange) -> None:
        assert self._handler is not None
        self._handler(exchange)

    def pool(self, prefix: str = "/api") -> tuple[int, int, int]:
        """(open, idle, connects) of the pool behind ``prefix``, read on the loop."""
        pool = self.proxies[prefix].pool
        return self.server.call(lambda: (pool.open, pool.idle, pool.connects))

    def queued_to_backend(self, prefix: str = "/api") -> int:
        """Bytes waiting to be sent to the backend behind ``prefix``, read on the loop."""
        pool = self.proxies[prefix].pool
        return self.server.call(lambda: pool.queued)

    def stop(self) -> None:
        for proxy in self.proxies.values():
            self.server.call(proxy.close)
        self.server.stop()


def _not_proxied(exchange: Exchange) -> None:
    exchange.respond(404, [("Content-Type", "text/plain")], b"not proxied\n")


def echo(exchange: Exchange) -> None:
    """A backend handler: answers JSON of the method, target, fields and body it received."""
    request = exchange.request
    parts: list[bytes] = []

    def done() -> None:
        body = json.dumps(
            {
                "method": request.method,
                "target": request.target,
                "version": request.version,
                "headers": [list(field) for field in request.headers],
                "body": b"".join(parts).decode("latin-1"),
            }
        ).encode()
        exchange.respond(200, [("Content-Type", "application/json"), ("X-Backend", "echo")], body)

    exchange.read_body(parts.append, done)


def accept_each(listener: socket.socket, serve: Callable[[socket.socket], object]) -> None:
    """Accept on ``listener`` from a thread until it is closed, serving each connection on a thread
    of its own."""

    def accept() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(sock,), daemon=True).start()

    threading.Thread(target=accept, name=f"accept-{listener.getsockname()[1]}", daemon=True).start()


# -- a raw backend ---------------------------------------------------------------------------------

Script = Callable[[socket.socket, bytes], object]
"""What a raw backend does with one request: given the socket and the request's bytes as read."""


def read_request(sock: socket.socket, with_body: bool = True) -> bytes:
    """One request's bytes as they came: the head, and (``with_body``) a body framed by
    Content-Length or chunked. b"" when the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lower = head.lower()
    if with_body and b"transfer-encoding: chunked" in lower:
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    elif with_body and b"content-length:" in lower:
        length = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return head + b"\r\n\r\n" + body


class RawBackend:
    """A backend on a thread, on 127.0.0.1: each connection's requests are read one after another
    and handed with the socket to ``script``, which answers with raw bytes (or not at all). What was
    read is kept in ``requests``, and ``connections`` counts the accepted connections."""

    def __init__(self, script: Script, with_body: bool = True) -> None:
        self.script = script
        self.with_body = with_body  # read each request's body before the script (else the script may)
        self.requests: list[bytes] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._sockets: list[socket.socket] = []
        accept_each(self._listener, self._serve)

    def _serve(self, sock: socket.socket) -> None:
        self.connections += 1
        self._sockets.append(sock)
        try:
            while request := read_request(sock, self.with_body):
                self.requests.append(request)
                self.script(sock, request)
        except OSError:
            pass
        finally:
            sock.close()

    def close(self) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting in accept
        self._listener.close()
        for sock in self._sockets:
            sock.close()


@contextmanager
def raw_backend(script: Script, with_body: bool = True) -> Iterator[RawBackend]:
    backend = RawBackend(script, with_body)
    try:
        yield backend
    finally:
        backend.close()


def answer(response: bytes) -> Script:
    """A script answering every request with ``response``."""
    return lambda sock, request: sock.sendall(response)
