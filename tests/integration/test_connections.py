"""Connection behaviour over real sockets: keep-alive, pipelining, backpressure, errors, timeouts."""

from __future__ import annotations

import logging
import selectors
import socket
from pathlib import Path

import pytest

from handlers.static.staticfiles import StaticFiles
from reactor.exchange import Exchange
from tests.conftest import LiveServer
from tests.integration.client import RawClient, request, wait_until


def test_keep_alive_serves_many_requests_on_one_connection(live_server: LiveServer) -> None:
    with RawClient(live_server.port) as client:
        for _ in range(20):
            client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            assert client.read_response().body == b"hello world\n"
    assert live_server.statistics().accepted == 1


def test_fifty_pipelined_requests_are_answered_in_order(live_server: LiveServer) -> None:
    paths = ["/hello.txt", "/1k.bin", "/missing", "/site/", "/listed/A.txt"] * 10
    with RawClient(live_server.port) as client:
        client.send(b"".join(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode() for path in paths))
        bodies = [client.read_response() for _ in paths]
    for path, response in zip(paths, bodies, strict=True):
        if path == "/missing":
            assert response.status == 404
        else:
            assert response.status == 200, path
    assert [len(r.body) for r in bodies[:2]] == [12, 1024]
    assert bodies[4].body == b"a"


def test_connection_close_is_honoured(live_server: LiveServer) -> None:
    with RawClient(live_server.port) as client:
        client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        response = client.read_response()
        assert response.header("Connection") == "close"
        assert client.is_closed()


def test_http10_without_keep_alive_closes_and_with_it_stays(live_server: LiveServer) -> None:
    with RawClient(live_server.port) as client:
        client.send(b"GET /hello.txt HTTP/1.0\r\n\r\n")
        assert client.read_response().body == b"hello world\n"
        assert client.is_closed()
    with RawClient(live_server.port) as client:
        client.send(b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        response = client.read_response()
        assert response.header("Connection") == "keep-alive"
        client.send(b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert client.read_response().status == 200


def test_missing_host_in_http11_is_400_and_closes(live_server: LiveServer) -> None:
    with RawClient(live_server.port) as client:
        client.send(b"GET /hello.txt HTTP/1.1\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        response = client.read_response()
        assert response.status == 400
        assert response.header("Connection") == "close"
        assert client.is_closed(), "nothing after a framing error is answered"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-Big: " + b"a" * 40000 + b"\r\n\r\n", 431),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n", 413),
        (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, 400),  # a TLS ClientHello
    ],
)
def test_bad_requests_get_their_status_then_close(live_server: LiveServer, data: bytes, status: int) -> None:
    with RawClient(live_server.port) as client:
        client.send(data)
        response = client.read_response()
        assert response.status == status
        assert client.is_closed()


def test_post_with_small_body_to_a_file_is_405_and_keeps_the_connection(live_server: LiveServer) -> None:
    with RawClient(live_server.port) as client:
        client.send(b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        assert client.read_response().status == 405
        client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().body == b"hello world\n"


def test_expect_100_continue_to_a_static_file_gets_the_final_status_only(live_server: LiveServer) -> None:
    with RawClient(live_server.port) as client:
        client.send(b"PUT /up.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 500000\r\nExpect: 100-continue\r\n\r\n")
        response = client.read_response()
        assert response.status == 405, "no 100 Continue: the body will not be read"
        assert response.header("Connection") == "close"


def test_handler_exception_becomes_500_and_the_server_lives(docroot: Path) -> None:
    def handler(exchange: Exchange) -> None:
        if exchange.request.path == "/boom":
            raise RuntimeError("handler bug")
        exchange.respond(200, [("Content-Type", "text/plain")], b"fine")

    server = LiveServer(handler)
    try:
        with RawClient(server.port) as client:
            client.send(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
            assert client.read_response().status == 500
            assert client.read_response().body == b"fine"
    finally:
        server.stop()


def test_streamed_response_of_unknown_length_is_chunked(docroot: Path) -> None:
    def handler(exchange: Exchange) -> None:
        exchange.start_response(200, [("Content-Type", "text/plain")])
        for piece in (b"one ", b"two ", b"three"):
            exchange.loop.call_soon(exchange.write, piece)
        exchange.loop.call_soon(exchange.end)

    server = LiveServer(handler)
    try:
        with RawClient(server.port) as client:
            client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
            for _ in range(2):
                response = client.read_response()
                assert response.header("Transfer-Encoding") == "chunked"
                assert response.body == b"one two three"
    finally:
        server.stop()


def test_request_body_is_delivered_to_a_handler_that_reads_it(docroot: Path) -> None:
    def handler(exchange: Exchange) -> None:
        received = bytearray()

        def done() -> None:
            exchange.respond(200, [], bytes(received[::-1]))

        exchange.read_body(received.extend, done)

    server = LiveServer(handler)
    try:
        with RawClient(server.port) as client:
            client.send(
                b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            )
            assert client.read_response().body == b"edcba"
            client.send(b"PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
            interim = client.read_response()
            assert interim.status == 100
            client.send(b"xyz")
            assert client.read_response().body == b"zyx"
    finally:
        server.stop()


def test_pipelining_client_that_never_reads_cannot_grow_server_memory(docroot: Path) -> None:
    (docroot / "64k.bin").write_bytes(b"x" * 65536)
    server = LiveServer(StaticFiles(str(docroot)))
    try:
        sock = socket.create_connection((server.host, server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        one = b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /64k.bin HTTP/1.1\r\nHost: t\r\n\r\n"
        sent = 0
        # Push requests until the server stops reading them: our send buffer fills up then.
        for _ in range(20000):
            try:
                sent += sock.send(one * 64)
            except BlockingIOError:
                break
        assert wait_until(lambda: server.statistics().by_state.get("writing", 0) == 1)
        stats = server.statistics()
        limits = server.limits
        # Paused above the high-water mark: what is queued is bounded by it plus one response.
        assert stats.queued <= limits.high_water + 65536 + 1024
        assert sent < 64 * 1024 * 1024, "the server kept reading although the client never did"
        sock.close()
    finally:
        server.stop()


def test_two_hundred_concurrent_clients_are_all_answered(live_server: LiveServer) -> None:
    selector = selectors.DefaultSelector()
    received: dict[socket.socket, bytearray] = {}
    for _ in range(200):
        sock = socket.create_connection((live_server.host, live_server.port))
        sock.sendall(b"GET /1k.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        sock.setblocking(False)
        received[sock] = bytearray()
        selector.register(sock, selectors.EVENT_READ)
    open_count = len(received)
    while open_count:
        events = selector.select(timeout=10)
        assert events, "a client waited 10 s for its response"
        for key, _ in events:
            client = key.fileobj
            assert isinstance(client, socket.socket)
            data = client.recv(65536)
            if data:
                received[client] += data
            else:
                selector.unregister(client)
                open_count -= 1
    selector.close()
    for client, response in received.items():
        client.close()
        assert response.startswith(b"HTTP/1.1 200 OK\r\n")
        assert response.endswith(bytes(range(256)) * 4)
    assert live_server.statistics().requests == 200


def test_client_closing_mid_response_is_a_quiet_close(docroot: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Errors fall in three buckets: a peer gone is a close logged at debug, never a warning with a
    # traceback, and the server goes on serving.
    caplog.set_level(logging.DEBUG, logger="reactor")
    (docroot / "big.bin").write_bytes(b"z" * (8 << 20))
    server = LiveServer(StaticFiles(str(docroot)))
    try:
        for _ in range(5):
            sock = socket.create_connection((server.host, server.port))
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            sock.recv(1000)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()  # with linger 0: a reset
        assert wait_until(lambda: server.statistics().connections == 0)
        assert server.statistics().closes == {"peer reset": 5}
        assert request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
    finally:
        server.stop()
    gone = [r for r in caplog.records if r.levelno == logging.DEBUG and "peer gone" in r.getMessage()]
    assert len(gone) == 5, caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
