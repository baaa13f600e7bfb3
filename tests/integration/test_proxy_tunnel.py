"""Upgrades through the reverse proxy: a 101 from the backend turns the client's connection into a
two-way byte tunnel (a WebSocket echo server written with the standard library at the far end)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.integration.client import request, wait_until
from tests.integration.proxy_helpers import Proxy, answer, raw_backend
from tests.integration.websocket import BINARY, CLOSE, PING, PONG, TEXT, Client, EchoServer, frame


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture
def proxy(echo_server: EchoServer) -> Iterator[Proxy]:
    started = Proxy({"/ws": f"http://127.0.0.1:{echo_server.port}"})
    yield started
    started.stop()


def test_a_websocket_works_through_the_proxy(proxy: Proxy, echo_server: EchoServer) -> None:
    client = Client(proxy.port)
    head = client.handshake("/ws/echo")
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"connection: upgrade\r\n" in head.lower() and b"upgrade: websocket\r\n" in head.lower()
    for message in (b"hello", "caf\u00e9".encode(), b"x" * 70_000):
        client.send(message)
        assert client.receive() == (TEXT, message)
    client.send(b"\x00\x01", BINARY)
    assert client.receive() == (BINARY, b"\x00\x01")
    client.send(b"are you there", PING)
    assert client.receive() == (PONG, b"are you there")
    client.send(b"\x03\xe8", CLOSE)
    assert client.receive() == (CLOSE, b"\x03\xe8")
    client.sock.settimeout(5)
    assert client.sock.recv(1) == b"", "the backend's close ends the client's connection"
    client.close()
    handshake = echo_server.requests[0].lower()
    assert handshake.startswith(b"get /ws/echo http/1.1\r\n")
    assert b"sec-websocket-key: " in handshake and b"sec-websocket-version: 13\r\n" in handshake
    assert b"connection: upgrade\r\n" in handshake and b"upgrade: websocket\r\n" in handshake
    assert wait_until(lambda: proxy.server.statistics().connections == 0)
    assert proxy.pool("/ws") == (0, 0, 1), "a tunnel's connection never goes back to the pool"


def test_bytes_sent_behind_the_upgrade_request_go_first(proxy: Proxy) -> None:
    client = Client(proxy.port)
    client.handshake("/ws/", extra=frame(TEXT, b"early", masked=True))
    assert client.receive() == (TEXT, b"early")
    client.close()


def test_a_large_message_each_way_crosses_with_backpressure(proxy: Proxy) -> None:
    client = Client(proxy.port, timeout=30)
    client.handshake("/ws/")
    big = bytes(range(256)) * 16384  # 4 MiB: more than the socket buffers and the queues hold
    client.send(big, BINARY)
    assert client.receive() == (BINARY, big)
    assert proxy.server.statistics().largest_queue <= proxy.limits.high_water + proxy.limits.recv_size
    client.close()


def test_an_end_of_stream_is_passed_on_as_a_half_close(proxy: Proxy) -> None:
    def upgrade_then_answer_after_the_end(sock: socket.socket, request: bytes) -> None:
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: line\r\n\r\n")
        received = b""
        while data := sock.recv(65536):
            received += data
        sock.sendall(b"you said: " + received)  # the other way still carries bytes after the end
        sock.close()

    with raw_backend(upgrade_then_answer_after_the_end) as backend:
        line = Proxy({"/line": backend.url})
        try:
            with socket.create_connection(("127.0.0.1", line.port), timeout=10) as sock:
                sock.sendall(b"GET /line HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: line\r\n\r\nhello")
                sock.shutdown(socket.SHUT_WR)
                received = b""
                while data := sock.recv(65536):
                    received += data
        finally:
            line.stop()
    assert received.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert received.endswith(b"\r\n\r\nyou said: hello")


def test_a_refused_upgrade_is_an_ordinary_response(proxy: Proxy) -> None:
    refusal = b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 4\r\n\r\nnope"
    with raw_backend(answer(refusal)) as backend:
        other = Proxy({"/ws": backend.url})
        try:
            response = request(
                other.port, b"GET /ws HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
            )
        finally:
            other.stop()
    assert (response.status, response.body) == (426, b"nope")


def test_a_tunnel_is_a_stream_a_graceful_shutdown_ends_at_once(proxy: Proxy) -> None:
    client = Client(proxy.port)
    client.handshake("/ws/")
    assert wait_until(lambda: proxy.server.statistics().streams == 1)
    started = time.monotonic()
    proxy.server.call(lambda: proxy.server.server.shutdown(grace=30))
    client.sock.settimeout(10)
    assert client.sock.recv(1) == b""
    assert time.monotonic() - started < 5, "ended at once, not after the grace period"
    client.close()
