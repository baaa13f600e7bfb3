"""Exchange.switch_protocols: a 101, then the connection belongs to a raw stream protocol, with what the
client sent behind its request first; a long-lived exchange a graceful shutdown ends at once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from reactor.exchange import Exchange
from reactor.net.stream import StreamProtocol
from reactor.net.transport import TransportInterface
from tests.conftest import LiveServer
from tests.integration.client import RawClient, wait_until

UPGRADE = b"GET /switch HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n"


class Echo(StreamProtocol):
    def connection_made(self, transport: TransportInterface) -> None:
        super().connection_made(transport)
        transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        self.transport.write(data.upper())


def switch(exchange: Exchange) -> None:
    if exchange.request.path == "/switch":
        exchange.switch_protocols([("Connection", "Upgrade"), ("Upgrade", "echo")], Echo())
    else:
        exchange.respond(200, [("Content-Type", "text/plain")], b"plain\n")


@pytest.fixture
def logged() -> list[tuple[str, str, str, int, int]]:
    return []


@pytest.fixture
def server(logged: list[tuple[str, str, str, int, int]]) -> Iterator[LiveServer]:
    live = LiveServer(switch, access_log=lambda *line: logged.append(line))
    yield live
    live.stop()


def test_after_the_101_the_connection_is_the_protocol_s(server: LiveServer) -> None:
    with RawClient(server.port) as client:
        client.send(UPGRADE + b"sent early")
        response = client.read_response()
        assert response.status == 101
        assert response.header("Connection") == "Upgrade" and response.header("Upgrade") == "echo"
        assert response.header("Content-Length") is None and response.header("Transfer-Encoding") is None
        assert wait_until(lambda: len(client.unread()) >= len(b"SENT EARLY"))
        assert client.unread() == b"SENT EARLY", "what came behind the request head went first"
        client.buffer.clear()
        client.send(b"GET / HTTP/1.1\r\n\r\n")  # no longer HTTP: echoed like anything else
        assert wait_until(lambda: client.unread() == b"GET / HTTP/1.1\r\n\r\n".upper())


def test_a_switched_connection_is_a_stream_a_shutdown_ends_with_its_log_line(
    server: LiveServer, logged: list[tuple[str, str, str, int, int]]
) -> None:
    with RawClient(server.port) as client:
        client.send(UPGRADE)
        assert client.read_response().status == 101
        assert wait_until(lambda: server.statistics().streams == 1)
        started = time.monotonic()
        server.call(lambda: server.server.shutdown(grace=30))
        assert client.is_closed(), "ended at once, not after the grace period"
        assert time.monotonic() - started < 5
    assert wait_until(lambda: logged == [("127.0.0.1", "-", "GET /switch HTTP/1.1", 101, 0)])
