"""Clients that reset their connection in the middle of a sendfile download."""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

from tests.integration.client import wait_until
from tests.robustness.conftest import Spawn
from tests.robustness.harness import RSS_SLACK, LatencyProbe, record

CLIENTS = 200
WAVE = 50
BIG = 32 << 20


def reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN, as a crashed client would."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_clients_resetting_mid_sendfile_leave_no_file_or_memory_behind(spawn: Spawn, docroot: Path) -> None:
    (docroot / "big.bin").write_bytes(os.urandom(1 << 20) * (BIG >> 20))
    server = spawn()
    baseline = server.warm_up()
    peak = baseline.rss
    with LatencyProbe(server, interval=0.05) as probe:
        for _ in range(CLIENTS // WAVE):
            wave = []
            for _ in range(WAVE):
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
                wave.append(sock)
            for sock in wave:
                assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
                sock.recv(65536)  # the body is flowing from sendfile: now vanish
            # Each download holds a socket and the open file: both must be released on the reset.
            assert server.open_fds() >= baseline.fds + 2 * WAVE
            peak = max(peak, server.rss())
            for sock in wave:
                reset(sock)
        assert wait_until(lambda: len(probe.latencies) >= 5), "normal requests go on being served"
    assert not probe.failures, probe.failures[:3]
    after = server.settled(baseline)
    record(f"reset mid-sendfile x{CLIENTS}", baseline, peak, after, **probe.summary())
    assert after <= baseline.rss + RSS_SLACK
    assert "Traceback" not in server.stderr_path.read_text(), "a reset is a quiet close"
