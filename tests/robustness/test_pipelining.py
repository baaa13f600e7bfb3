"""A client that pipelines requests as fast as it can and never reads a response."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tests.integration.client import wait_until
from tests.robustness.conftest import Spawn
from tests.robustness.harness import RSS_SLACK, LatencyProbe, MiB, record

SEND_TIMEOUT = 2.0
TCP_ESTABLISHED = 1  # the first byte of Linux's struct tcp_info is the connection's state


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed (FIN) or reset the connection, read without consuming data."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] != TCP_ESTABLISHED


REQUEST = b"GET /64k.bin HTTP/1.1\r\nHost: t\r\n\r\n"


def test_a_pipelining_client_that_never_reads_is_bounded_then_cut_off(spawn: Spawn, docroot: Path) -> None:
    (docroot / "64k.bin").write_bytes(b"p" * 65536)
    server = spawn("--send-timeout", f"{SEND_TIMEOUT}")
    baseline = server.warm_up()
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    sent = 0
    peak = baseline.rss
    with LatencyProbe(server) as probe:
        # Push requests until our send buffer fills: the server has stopped reading them, because
        # its queue for this connection is past the high-water mark. Then hold still.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                sent += sock.send(REQUEST * 256)
            except BlockingIOError:
                break
            peak = max(peak, server.rss())
        stalled_at = time.monotonic()
        peak = max(peak, server.rss())
        # Bounded: what the server holds for this client does not grow with what the client sent.
        assert peak - baseline.rss < 4 * MiB, f"{(peak - baseline.rss) / MiB:.1f} MiB for one client"
        # The send timeout ends it: no byte moved for SEND_TIMEOUT seconds.
        assert wait_until(lambda: closed_by_server(sock), timeout=SEND_TIMEOUT + 5)
        cut_after = time.monotonic() - stalled_at
    sock.close()
    assert not probe.failures, probe.failures[:3]
    assert probe.latencies and max(probe.latencies) < 0.5, probe.summary()
    after = server.settled(baseline)
    record(
        "pipelining, never reading",
        baseline,
        peak,
        after,
        sent_kib=sent >> 10,
        cut_after_s=round(cut_after, 1),
        **probe.summary(),
    )
    assert after <= baseline.rss + RSS_SLACK
