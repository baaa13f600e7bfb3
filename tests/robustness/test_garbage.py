"""Scanners on the plain port: TLS ClientHellos, other protocols and random bytes."""

from __future__ import annotations

import contextlib
import random
import socket
import ssl

from tests.robustness.conftest import Spawn
from tests.robustness.harness import RSS_SLACK, record

GARBAGE_CONNECTIONS = 300


def client_hello() -> bytes:
    """The first flight of a real TLS handshake, made by the ssl module without a network."""
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="example.org")
    with contextlib.suppress(ssl.SSLWantReadError):  # it waits for the server's answer: expected
        tls.do_handshake()
    return outgoing.read()


PROBES = [
    client_hello(),
    b"SSH-2.0-OpenSSH_9.6\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",  # the HTTP/2 connection preface
    b"\x00" * 64,
    b"\r\n\r\n\x16\x03\x01",
    b"GET / HTTP/1.1\r\nHost: t\r\n\x00\r\n\r\n",
]


def answer(port: int, data: bytes) -> bytes:
    """Send ``data``, close our side, and return everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_tls_and_other_protocols_get_400_or_505_and_a_close(spawn: Spawn) -> None:
    server = spawn()
    baseline = server.warm_up()
    for data in PROBES:
        reply = answer(server.port, data)
        status_line = reply.split(b"\r\n", 1)[0]
        expected = b"HTTP/1.1 505 " if data.startswith(b"PRI * HTTP/2.0") else b"HTTP/1.1 400 Bad Request"
        assert status_line.startswith(expected), (data[:20], reply[:80])
        assert b"\r\nConnection: close\r\n" in reply
    assert client_hello().startswith(b"\x16\x03"), "a TLS handshake record"
    after = server.settled(baseline)
    assert after <= baseline.rss + RSS_SLACK


def test_random_bytes_always_get_an_error_status_and_a_close(spawn: Spawn) -> None:
    server = spawn()
    baseline = server.warm_up()
    generator = random.Random(20261121)  # fixed seed: the same garbage on every run
    statuses: dict[int, int] = {}
    peak = baseline.rss
    for index in range(GARBAGE_CONNECTIONS):
        data = generator.randbytes(generator.choice([1, 7, 64, 1000, 40000]))
        if index % 3 == 0:
            data = b"GET /" + data  # garbage after a plausible start reaches deeper checks
        reply = answer(server.port, data)
        assert reply.startswith((b"HTTP/1.1 4", b"HTTP/1.1 5")), (data[:40], reply[:80])
        status = int(reply[9:12])
        statuses[status] = statuses.get(status, 0) + 1
        if index % 50 == 0:
            peak = max(peak, server.rss())
    after = server.settled(baseline)
    record(f"garbage x{GARBAGE_CONNECTIONS}", baseline, peak, after, statuses=statuses)
    assert after <= baseline.rss + RSS_SLACK
    assert "Traceback" not in server.stderr_path.read_text()
