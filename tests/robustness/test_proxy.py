"""The reverse proxy measured from the outside, a backend and the proxy each in a process of its own:
a client that stops reading a 100 MiB download leaves the proxy's memory flat, and a thousand proxied
event streams held open say what one proxied connection costs."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from pathlib import Path

from tests.integration.client import wait_until
from tests.robustness.conftest import Spawn
from tests.robustness.harness import RSS_SLACK, MiB, raise_descriptor_limit, read_each, record

SIZE = 100 * MiB
STREAMS = 1000


def by_state(port: int) -> dict[str, int]:
    """The connections by I/O state, from a server's status page."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /-/status.json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    states: dict[str, int] = json.loads(data.partition(b"\r\n\r\n")[2])["statistics"]["by_state"]
    return states


def test_a_client_that_stops_reading_a_proxied_download_leaves_the_proxy_flat(spawn: Spawn, docroot: Path) -> None:
    with open(docroot / "large.bin", "wb") as sparse:
        sparse.truncate(SIZE)
        sparse.seek(SIZE // 2)
        sparse.write(b"middle")
    expected = hashlib.sha256()
    with open(docroot / "large.bin", "rb") as source:
        while block := source.read(MiB):
            expected.update(block)
    backend = spawn("--status-path", "/-/status")
    proxy = spawn("--proxy", f"/backend=http://127.0.0.1:{backend.port}/")
    baseline = proxy.warm_up()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(b"GET /backend/large.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while len(data) < MiB:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        # The client reads nothing more: the proxy's queue fills, it stops reading from the backend,
        # whose own queue fills in turn: the backend is the one held back.
        assert wait_until(lambda: by_state(backend.port).get("writing") == 1, timeout=20)
        held = proxy.rss()
        digest = hashlib.sha256(body)
        received, peak = len(body), held
        while chunk := sock.recv(1 << 20):
            digest.update(chunk)
            received += len(chunk)
            if received % (8 * MiB) < len(chunk):
                peak = max(peak, proxy.rss())
    assert received == SIZE and digest.hexdigest() == expected.hexdigest()
    after = proxy.settled(baseline)
    record(
        "proxied 100 MiB download, client stops reading",
        baseline,
        peak,
        after,
        rss_while_held_mib=round(held / MiB, 1),
    )
    assert held - baseline.rss < 8 * MiB, f"the proxy grew by {(held - baseline.rss) / MiB:.1f} MiB while held"
    assert peak - baseline.rss < 16 * MiB, f"the proxy grew by {(peak - baseline.rss) / MiB:.1f} MiB"


def open_streams(port: int) -> list[socket.socket]:
    clients: list[socket.socket] = []
    for _ in range(STREAMS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /backend/-/livereload HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n")
        sock.setblocking(False)
        clients.append(sock)
    read_each(clients, lambda data: b"retry: " in data)
    return clients


def test_a_thousand_proxied_streams_cost_little_each_and_a_save_reaches_them_all(spawn: Spawn, docroot: Path) -> None:
    raise_descriptor_limit(2 * STREAMS + 200)
    backend = spawn("--live-reload")
    proxy = spawn("--proxy", f"/backend=http://127.0.0.1:{backend.port}/")
    baseline = proxy.warm_up()
    rounds: list[int] = []
    for round_number in range(2):  # the second round must not cost more: nothing of the first is left
        clients = open_streams(proxy.port)
        try:
            peak = proxy.rss()
            saved = time.monotonic()
            (docroot / "hello.txt").write_text(f"saved {round_number}\n")
            read_each(clients, lambda data: b"event: reload\n" in data)
            told = time.monotonic() - saved
        finally:
            for sock in clients:
                sock.close()
        rounds.append(proxy.settled(baseline))
        if not round_number:
            per_connection = (peak - baseline.rss) / STREAMS
            record(
                "proxied event streams x1000",
                baseline,
                peak,
                rounds[0],
                rss_per_proxied_connection_kib=round(per_connection / 1024, 1),
                save_to_all_ms=round(told * 1000, 1),
            )
    assert per_connection < 24 * 1024, f"{per_connection / 1024:.1f} KiB per proxied connection"
    assert rounds[1] <= rounds[0] + RSS_SLACK, f"RSS after each round: {[round(r / MiB, 1) for r in rounds]} MiB"
