"""Timeouts and limits on a real server with short settings: what the client sees, byte for byte."""

from __future__ import annotations

import dataclasses
import gc
import socket
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers.static.staticfiles import StaticFiles
from reactor.exchange import Exchange
from reactor.limits import Limits
from tests.conftest import LiveServer
from tests.integration.client import RawClient, request, wait_until

SHORT = 0.4


def read_all(exchange: Exchange) -> None:
    exchange.read_body(lambda data: None, lambda: exchange.respond(200, [], b"read"))


@pytest.fixture
def timeouts_server(docroot: Path) -> Iterator[LiveServer]:
    static = StaticFiles(str(docroot))

    def handler(exchange: Exchange) -> None:
        if exchange.request.method == "POST":
            read_all(exchange)
        else:
            static(exchange)

    (docroot / "big.bin").write_bytes(b"b" * (16 << 20))
    limits = dataclasses.replace(
        Limits(),
        header_timeout=SHORT,
        keepalive_timeout=SHORT,
        body_timeout=SHORT,
        send_timeout=SHORT,
        lingering_timeout=SHORT,
        lingering_time=1.0,
    )
    live = LiveServer(handler, limits)
    yield live
    live.stop()


def assert_408_then_close(client: RawClient) -> None:
    response = client.read_response()
    assert (response.status, response.reason) == (408, "Request Timeout")
    assert response.header("Connection") == "close"
    assert client.is_closed()


def test_a_second_request_head_on_a_kept_connection_has_its_own_timeout(timeouts_server: LiveServer) -> None:
    with RawClient(timeouts_server.port) as client:
        client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().status == 200
        client.send(b"GET /hello.txt HTTP/1.1\r\nHo")
        assert_408_then_close(client)


def test_a_stalled_body_gets_408(timeouts_server: LiveServer) -> None:
    with RawClient(timeouts_server.port) as client:
        client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        assert_408_then_close(client)
    assert wait_until(lambda: timeouts_server.statistics().closes.get("request timeout") == 1)


def test_idle_keep_alive_is_closed_without_a_response(timeouts_server: LiveServer) -> None:
    with RawClient(timeouts_server.port) as client:
        client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        client.read_response()
        assert client.is_closed()
        assert client.buffer == b""


def test_a_client_that_stops_reading_is_cut_off_after_the_send_timeout(timeouts_server: LiveServer) -> None:
    sock = socket.create_connection((timeouts_server.host, timeouts_server.port))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wait_until(lambda: timeouts_server.statistics().closes.get("send timeout") == 1)
        assert timeouts_server.statistics().connections == 0
    finally:
        sock.close()


def test_a_large_body_sent_to_a_static_file_is_answered_at_once_and_cut_off(timeouts_server: LiveServer) -> None:
    # The static handler never reads bodies: 405 at once, then what the client still sends is read
    # and dropped while the connection lingers (for lingering_time at most however steadily the
    # client sends: tests/reactor/test_connection.py), and the connection ends.
    with RawClient(timeouts_server.port) as client:
        client.send(b"PUT /hello.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        response = client.read_response()
        assert response.status == 405
        assert response.header("Connection") == "close"
        chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
        for _ in range(32):  # 2 MiB nobody will read
            client.sock.sendall(chunk)
        assert wait_until(lambda: timeouts_server.statistics().closes == {"linger timeout": 1})
        with pytest.raises(OSError):  # EPIPE or ECONNRESET: the server is gone
            for _ in range(100):
                client.sock.sendall(chunk)


def test_at_the_connection_limit_the_server_stops_accepting_until_a_slot_frees(docroot: Path) -> None:
    live = LiveServer(StaticFiles(str(docroot)), dataclasses.replace(Limits(), max_connections=2))
    try:
        first, second = RawClient(live.port), RawClient(live.port)
        for client in (first, second):
            client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            assert client.read_response().status == 200
        # At the limit the listener leaves the selector: only the wakeup socket and the two
        # connections are watched, so nothing can wake the loop to accept.
        assert live.statistics().loop.registered == 3
        with RawClient(live.port) as third:  # the kernel completes the handshake; we do not accept
            third.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            # A pass of the loop after the connect: had the listener been watched, its accept would
            # have run in that pass, before this call.
            assert live.call(lambda: (live.server.statistics().accepted, live.loop.statistics().registered)) == (2, 3)
            first.close()
            assert third.read_response().status == 200, "accepted once the first connection closed"
        second.close()
        assert wait_until(lambda: live.statistics().connections == 0)
        assert request(live.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
    finally:
        live.stop()


def test_closed_connections_are_freed_at_once(live_server: LiveServer) -> None:
    # Nothing may keep a closed connection alive (a timer still armed did, for keepalive_timeout):
    # thousands of connections a minute would otherwise pile up with their buffers.
    clients = [RawClient(live_server.port) for _ in range(20)]
    for client in clients:
        client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().status == 200
    refs = live_server.call(lambda: [weakref.ref(connection) for connection in live_server.server.connections])
    assert len(refs) == 20
    for client in clients:
        client.close()
    assert wait_until(lambda: live_server.statistics().connections == 0)
    live_server.call(gc.collect)
    assert [ref for ref in refs if ref() is not None] == []
