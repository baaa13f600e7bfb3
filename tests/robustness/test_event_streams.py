"""A thousand open live-reload event streams (tabs, or other browsers): what each costs the server in
resident memory, and how long one save takes to reach them all."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tests.robustness.conftest import Spawn
from tests.robustness.harness import RSS_SLACK, raise_descriptor_limit, read_each, record

STREAMS = 1000
REQUEST = b"GET /-/livereload HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n"


def test_a_thousand_idle_streams_cost_little_and_a_save_reaches_them_all(spawn: Spawn, docroot: Path) -> None:
    raise_descriptor_limit(STREAMS + 200)
    server = spawn("--live-reload")
    baseline = server.warm_up()
    clients: list[socket.socket] = []
    try:
        for _ in range(STREAMS):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(REQUEST)
            sock.setblocking(False)
            clients.append(sock)
        read_each(clients, lambda data: b"retry: " in data)
        peak = server.rss()
        status, latency = server.get()
        assert status == 200, "a newcomer is served while the streams are held"
        saved = time.monotonic()
        (docroot / "hello.txt").write_text("saved\n")
        read_each(clients, lambda data: b"event: reload\n" in data)
        told = time.monotonic() - saved
    finally:
        for sock in clients:
            sock.close()
    after = server.settled(baseline)
    per_stream = (peak - baseline.rss) / STREAMS
    record(
        "event streams x1000",
        baseline,
        peak,
        after,
        rss_per_stream_kib=round(per_stream / 1024, 1),
        newcomer_ms=round(latency * 1000, 1),
        save_to_all_ms=round(told * 1000, 1),
    )
    assert per_stream < 16 * 1024, f"{per_stream / 1024:.1f} KiB per idle stream"
    assert after <= baseline.rss + RSS_SLACK
