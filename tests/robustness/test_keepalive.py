"""2,000 concurrent keep-alive connections, each used twice."""

from __future__ import annotations

import socket
import time

from tests.robustness.conftest import Spawn
from tests.robustness.harness import RSS_SLACK, raise_descriptor_limit, read_each, record

CONNECTIONS = 2000
REQUEST = b"GET /1k.bin HTTP/1.1\r\nHost: t\r\n\r\n"
RESPONSE_BODY = bytes(range(256)) * 4


def serve_round(clients: list[socket.socket], timeout: float = 30) -> float:
    """Send one request on every connection, then read every response; return the seconds taken.
    Asserts each connection gets exactly one whole 200 response and stays open."""
    started = time.monotonic()
    for sock in clients:
        sock.sendall(REQUEST)
    received = read_each(clients, lambda data: data.endswith(RESPONSE_BODY), timeout)
    for data in received.values():
        assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.count(b"HTTP/1.1") == 1
    return time.monotonic() - started


def test_two_thousand_keep_alive_connections_are_held_and_served(spawn: Spawn) -> None:
    raise_descriptor_limit(CONNECTIONS + 200)
    server = spawn()
    baseline = server.warm_up()
    clients: list[socket.socket] = []
    try:
        for _ in range(CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.setblocking(False)
            clients.append(sock)
        first = serve_round(clients)
        second = serve_round(clients)  # the same connections, reused
        assert server.open_fds() >= baseline.fds + CONNECTIONS, "all connections were open at once"
        peak = server.rss()
        status, latency = server.get()
        assert status == 200, "a newcomer is served while 2,000 connections are held"
    finally:
        for sock in clients:
            sock.close()
    after = server.settled(baseline)
    record(
        "keep-alive x2000",
        baseline,
        peak,
        after,
        round1_s=round(first, 2),
        round2_s=round(second, 2),
        newcomer_ms=round(latency * 1000, 1),
        rss_per_connection_kib=round((peak - baseline.rss) / CONNECTIONS / 1024, 1),
    )
    assert after <= baseline.rss + RSS_SLACK
