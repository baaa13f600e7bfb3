"""The UDP echo on real sockets: many clients at once, and the endpoint's queue when the kernel
refuses a datagram."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from examples.udp_echo import UDPEcho
from reactor.loop.eventloop import EVENT_WRITE, EventLoop
from reactor.net.datagram import DatagramEndpoint, DatagramProtocol, bind_datagram
from reactor.testing import tick
from tests.integration.loopthread import LoopThread


@pytest.fixture
def udp_echo() -> Iterator[tuple[LoopThread, DatagramEndpoint]]:
    thread = LoopThread()
    endpoint = thread.call(lambda: DatagramEndpoint(thread.loop, bind_datagram("127.0.0.1", 0), UDPEcho()))
    yield thread, endpoint
    thread.stop(endpoint.close)


def test_each_datagram_returns_to_its_sender(udp_echo: tuple[LoopThread, DatagramEndpoint]) -> None:
    _thread, endpoint = udp_echo
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(10)
        for payload in (b"hello", b"", b"x" * 60000):
            client.sendto(payload, endpoint.address)
            data, sender = client.recvfrom(65535)
            assert (data, sender) == (payload, endpoint.address)


def test_fifty_clients_at_once(udp_echo: tuple[LoopThread, DatagramEndpoint]) -> None:
    thread, endpoint = udp_echo
    clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(50)]
    try:
        for number, client in enumerate(clients):
            client.settimeout(10)
            for index in range(5):
                client.sendto(b"client %d datagram %d" % (number, index), endpoint.address)
        for number, client in enumerate(clients):
            received = sorted(client.recvfrom(100)[0] for _ in range(5))
            assert received == [b"client %d datagram %d" % (number, index) for index in range(5)]
    finally:
        for client in clients:
            client.close()
    assert thread.call(lambda: (endpoint.received, endpoint.sent, endpoint.dropped)) == (250, 250, 0)


class FullSocket(socket.socket):
    """A UDP socket whose sendto reports a full buffer while ``full`` is set."""

    full = True

    def sendto(self, data: Any, address: Any) -> int:  # type: ignore[override]
        if self.full:
            raise BlockingIOError
        return super().sendto(data, address)


def test_a_full_socket_queues_then_drops_and_sends_once_writable() -> None:
    loop = EventLoop()
    sock = FullSocket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.bind(("127.0.0.1", 0))
    endpoint = DatagramEndpoint(loop, sock, DatagramProtocol(), max_queued=3)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(10)
    try:
        for number in range(5):
            endpoint.sendto(b"%d" % number, receiver.getsockname())
        assert (endpoint.sent, endpoint.dropped) == (0, 2)
        assert loop._selector.get_key(sock).events & EVENT_WRITE  # waits for the socket, not a timer
        sock.full = False
        tick(loop)
        assert endpoint.sent == 3
        assert [receiver.recv(10) for _ in range(3)] == [b"0", b"1", b"2"]
        assert not loop._selector.get_key(sock).events & EVENT_WRITE
    finally:
        endpoint.close()
        receiver.close()
        loop.close()
