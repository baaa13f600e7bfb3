"""A server with RLIMIT_NOFILE 64 facing 200 clients at once: it neither spins nor dies, and every
client gets an answer once others leave."""

from __future__ import annotations

import selectors
import socket
import time

import pytest

from tests.integration.client import wait_until
from tests.robustness.conftest import Spawn
from tests.robustness.harness import RSS_SLACK, MeasuredServer, record

NOFILE = 64
CLIENTS = 200
# CPU the server may use in one second while it holds all it can and 100+ clients wait: a server
# that polled a readable listener would use the whole second.
IDLE_CPU_SECONDS = 0.1


def burst(server: MeasuredServer) -> list[socket.socket]:
    """CLIENTS connections, each sending one keep-alive request; the kernel completes every handshake
    (the backlog is 1024), whether or not the server can accept."""
    clients = []
    for _ in range(CLIENTS):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        sock.setblocking(False)
        clients.append(sock)
    return clients


def answer_all(clients: list[socket.socket], timeout: float = 30) -> dict[int, int]:
    """Wait for each client's response, closing a client as soon as its answer arrives, which frees
    a slot for the ones still waiting. Returns how many answers had each status."""
    selector = selectors.DefaultSelector()
    for sock in clients:
        selector.register(sock, selectors.EVENT_READ)
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + timeout
    pending = len(clients)
    while pending:
        events = selector.select(timeout=max(0.0, deadline - time.monotonic()))
        assert events, f"{pending} clients still unanswered after {timeout} s"
        for key, _ in events:
            ready = key.fileobj
            assert isinstance(ready, socket.socket)
            data = ready.recv(65536)
            assert data.startswith(b"HTTP/1.1 "), data[:80]
            status = int(data[9:12])
            statuses[status] = statuses.get(status, 0) + 1
            selector.unregister(ready)
            ready.close()
            pending -= 1
    selector.close()
    return statuses


@pytest.mark.parametrize(
    ("flags", "limited_by"),
    [
        ((), "max_connections"),  # the default, derived from RLIMIT_NOFILE: (64 - 16) // 2 = 24
        (("--max-connections", "1000"), "EMFILE"),  # set above what 64 descriptors allow
    ],
    ids=["at max-connections", "at EMFILE"],
)
def test_a_burst_beyond_the_descriptor_limit_is_served_without_spinning(
    spawn: Spawn, flags: tuple[str, ...], limited_by: str
) -> None:
    server = spawn("--keepalive-timeout", "30", *flags, nofile=NOFILE)
    baseline = server.warm_up()
    clients = burst(server)
    try:
        # The server takes what it can: 24 connections, or descriptors up to the limit.
        held = baseline.fds + (NOFILE - 16) // 2 if limited_by == "max_connections" else NOFILE - 2
        assert wait_until(lambda: server.open_fds() >= held)
        assert server.open_fds() <= NOFILE
        before = server.cpu_seconds()
        time.sleep(1.0)
        idle_cpu = server.cpu_seconds() - before
        assert idle_cpu < IDLE_CPU_SECONDS, f"the server spun: {idle_cpu:.2f} s of CPU in 1 s"
        peak = server.rss()
        statuses = answer_all(clients)
    finally:
        for sock in clients:
            sock.close()
    after = server.settled(baseline)
    log = server.stderr_path.read_text()
    if limited_by == "EMFILE":
        # Logged once for the whole burst, not once per failed accept nor per freed slot.
        assert log.count("accept failed (Too many open files)") == 1, log[-2000:]
        assert "RLIMIT_NOFILE" in log, "the start-up warning about --max-connections"
    else:
        assert "accept failed" not in log, "at max_connections the listener pauses before EMFILE"
    # Every client is answered; at EMFILE some answers are 500 (no descriptor left to open the file).
    assert sum(statuses.values()) == CLIENTS
    assert set(statuses) <= {200, 500}
    if limited_by == "max_connections":
        assert statuses == {200: CLIENTS}
    record(
        f"RLIMIT_NOFILE {NOFILE}, {CLIENTS} clients, {limited_by}",
        baseline,
        peak,
        after,
        idle_cpu_s=round(idle_cpu, 3),
        statuses=statuses,
    )
    assert after <= baseline.rss + RSS_SLACK
