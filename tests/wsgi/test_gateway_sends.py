"""How many send calls the gateway's responses cost: a connection on loopback whose server end
counts them, driven by ``tick`` while the worker thread answers."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable, Iterator
from typing import Any

from handlers.wsgi import WSGIGateway
from handlers.wsgi.gateway import StartResponse
from reactor.httpconnection import ConnectionConfig, HTTPConnection
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.transport import Transport
from reactor.testing import FakeClock, tick
from tests.integration.client import wait_until


class CountingSocket(socket.socket):
    """A socket that counts the calls that send bytes (send and sendmsg)."""

    sends = 0

    def send(self, data: Any, flags: int = 0) -> int:
        self.sends += 1
        return super().send(data, flags)

    def sendmsg(self, buffers: Any, *args: Any) -> int:
        self.sends += 1
        return super().sendmsg(buffers, *args)


def hello(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, World!\n"]


def streamed(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"Hello, "
    yield b"World!\n"


class Rig:
    """A threaded gateway serving one connection; ``get`` returns the raw response to a GET."""

    def __init__(self, app: Any) -> None:
        self.loop = EventLoop(clock=FakeClock())
        self.gateway = WSGIGateway(app, threads=1)
        limits = Limits()
        with socket.create_server(("127.0.0.1", 0)) as listener:
            self.client = socket.create_connection(listener.getsockname(), timeout=10)
            server_end, address = listener.accept()
        self.server = CountingSocket(fileno=server_end.detach())
        self.server.setblocking(False)
        self.client.setblocking(False)
        self.transport = Transport(
            self.loop, self.server, address, HTTPConnection(ConnectionConfig(self.gateway, limits)), limits
        )
        self.transport.start()

    def get(self, until: bytes) -> bytes:
        self.client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        received = bytearray()

        def answered() -> bool:
            tick(self.loop)
            with contextlib.suppress(BlockingIOError):
                received.extend(self.client.recv(1 << 16))
            return received.endswith(until)

        assert wait_until(answered), bytes(received)
        return bytes(received)

    def close(self) -> None:
        self.client.close()
        self.transport.abort("test over")
        self.loop.close()
        self.gateway.close()
        for thread in self.gateway._pool._threads if self.gateway._pool is not None else []:
            thread.join(10)


@contextlib.contextmanager
def serving(app: Any) -> Iterator[Rig]:
    rig = Rig(app)
    try:
        yield rig
    finally:
        rig.close()


def test_a_small_complete_response_from_a_worker_goes_out_in_one_send() -> None:
    with serving(hello) as rig:
        response = rig.get(b"Hello, World!\n")
        assert b"\r\nContent-Length: 14\r\n" in response
        assert rig.server.sends == 1, "head and body in one buffer, as on the loop thread"


def test_a_streamed_body_still_goes_out_piece_by_piece() -> None:
    with serving(streamed) as rig:
        response = rig.get(b"0\r\n\r\n")
        assert b"\r\nTransfer-Encoding: chunked\r\n" in response
        assert rig.server.sends > 1
