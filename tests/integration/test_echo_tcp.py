"""The TCP examples on real sockets: the line echo (many clients, backpressure, limits) and the
timestamping echo; and TCP, UDP and HTTP served by one loop."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from examples.tcp_echo import LineEcho
from examples.timestamp_echo import TimestampEcho
from examples.udp_echo import UDPEcho
from handlers.static.staticfiles import StaticFiles
from reactor.limits import Limits
from reactor.net.datagram import DatagramEndpoint, bind_datagram
from reactor.net.listener import bind
from reactor.net.stream import StreamProtocol, StreamServer
from reactor.server import Server
from tests.integration.client import request, wait_until
from tests.integration.loopthread import LoopThread


class EchoServer:
    def __init__(self, protocol_factory: Callable[[], StreamProtocol]) -> None:
        self.thread = LoopThread()
        self.limits = Limits()
        self.server = self.thread.call(lambda: self._start(protocol_factory))
        self.port = self.server.addresses[0][1]

    def _start(self, protocol_factory: Callable[[], StreamProtocol]) -> StreamServer:
        server = StreamServer(self.thread.loop, [bind("127.0.0.1", 0, 128)], protocol_factory, self.limits)
        server.start()
        return server

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def stop(self) -> None:
        self.thread.stop(self.server.close)


@pytest.fixture
def line_echo() -> Iterator[EchoServer]:
    server = EchoServer(LineEcho)
    yield server
    server.stop()


def read_exactly(sock: socket.socket, size: int) -> bytes:
    parts = []
    while size:
        data = sock.recv(min(size, 1 << 20))
        assert data, "closed early"
        parts.append(data)
        size -= len(data)
    return b"".join(parts)


def test_lines_come_back_whole_however_they_were_split(line_echo: EchoServer) -> None:
    with line_echo.connect() as client:
        client.sendall(b"hel")
        client.sendall(b"lo\nwor")
        client.sendall(b"ld\n")
        assert read_exactly(client, 12) == b"hello\nworld\n"


def test_a_hundred_clients_at_once(line_echo: EchoServer) -> None:
    clients = [line_echo.connect() for _ in range(100)]
    try:
        for round_number in range(3):
            for number, client in enumerate(clients):
                client.sendall(b"client %d round %d\n" % (number, round_number))
            for number, client in enumerate(clients):
                expected = b"client %d round %d\n" % (number, round_number)
                assert read_exactly(client, len(expected)) == expected
        assert line_echo.thread.call(lambda: len(line_echo.server.transports)) == 100
    finally:
        for client in clients:
            client.close()
    assert wait_until(lambda: line_echo.thread.call(lambda: not line_echo.server.transports))


def test_a_client_that_does_not_read_is_paused_not_buffered(line_echo: EchoServer) -> None:
    payload = b"".join(b"%063d\n" % number for number in range(1 << 17))  # 8 MiB of lines
    with line_echo.connect() as client:
        sender = threading.Thread(target=client.sendall, args=(payload,))
        sender.start()

        def paused() -> bool:
            transports = list(line_echo.server.transports)
            return bool(transports) and not transports[0]._reading

        assert wait_until(lambda: line_echo.thread.call(paused))
        queued = line_echo.thread.call(lambda: next(iter(line_echo.server.transports)).queued)
        # One recv's worth of echo past the high-water mark at most: the rest waits in the kernels.
        assert queued <= line_echo.limits.high_water + line_echo.limits.recv_size
        assert read_exactly(client, len(payload)) == payload
        sender.join(10)


def test_a_line_longer_than_the_limit_closes_the_connection(line_echo: EchoServer) -> None:
    with line_echo.connect() as client:
        client.sendall(b"x" * (LineEcho.max_line + 10))
        assert client.recv(1) == b""


def test_a_last_line_without_newline_is_echoed_before_closing(line_echo: EchoServer) -> None:
    with line_echo.connect() as client:
        client.sendall(b"one\ntwo")
        client.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := client.recv(100):
            data += chunk
        assert data == b"one\ntwo"


def test_the_timestamping_echo_prefixes_ctime() -> None:
    server = EchoServer(TimestampEcho)
    try:
        with server.connect() as client:
            client.sendall(b"hello")
            answer = client.recv(100)
        assert re.fullmatch(rb"\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] hello", answer), answer
    finally:
        server.stop()


def test_a_protocol_that_raises_loses_its_connection_not_the_server() -> None:
    class Faulty(StreamProtocol):
        def data_received(self, data: bytes) -> None:
            if data == b"boom":
                raise RuntimeError("protocol bug")
            self.transport.write(data)

    server = EchoServer(Faulty)
    try:
        with server.connect() as client:
            client.sendall(b"boom")
            assert client.recv(1) == b""
        with server.connect() as client:
            client.sendall(b"fine")
            assert client.recv(4) == b"fine"
    finally:
        server.stop()


def test_tcp_udp_and_http_share_one_loop(docroot: Path) -> None:
    thread = LoopThread()
    loop = thread.loop

    def start() -> tuple[StreamServer, DatagramEndpoint, Server]:
        tcp = StreamServer(loop, [bind("127.0.0.1", 0, 128)], LineEcho)
        tcp.start()
        udp = DatagramEndpoint(loop, bind_datagram("127.0.0.1", 0), UDPEcho())
        http = Server(loop, [bind("127.0.0.1", 0, 128)], StaticFiles(str(docroot)))
        http.start()
        return tcp, udp, http

    tcp, udp, http = thread.call(start)

    def close() -> None:
        tcp.close()
        udp.close()
        http.close()

    try:
        with socket.create_connection(tcp.addresses[0], timeout=10) as client:
            client.sendall(b"tcp\n")
            assert read_exactly(client, 4) == b"tcp\n"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(10)
            client.sendto(b"udp", udp.address)
            assert client.recvfrom(100)[0] == b"udp"
        assert request(http.addresses[0][1], b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello world\n"
    finally:
        thread.stop(close)
