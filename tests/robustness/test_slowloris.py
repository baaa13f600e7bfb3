"""500 slowloris connections while normal clients keep being served."""

from __future__ import annotations

import selectors
import socket
import time

from tests.robustness.conftest import Spawn
from tests.robustness.harness import RSS_SLACK, LatencyProbe, raise_descriptor_limit, record

CONNECTIONS = 500
HEADER_TIMEOUT = 3.0
DRIP_INTERVAL = 0.5
# Stated latency for a normal request while the slowloris connections are open: well above what a
# quiet machine shows (about 1-2 ms), low enough that a server stuck on the slow clients fails it.
MAX_LATENCY = 0.5


def test_slowloris_connections_time_out_with_408_while_others_are_served(spawn: Spawn) -> None:
    raise_descriptor_limit(CONNECTIONS + 100)
    server = spawn("--header-timeout", f"{HEADER_TIMEOUT}")
    baseline = server.warm_up()
    slow: list[socket.socket] = []
    selector = selectors.DefaultSelector()
    try:
        started = time.monotonic()
        for _ in range(CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
            sock.setblocking(False)
            slow.append(sock)
        with LatencyProbe(server) as probe:
            # Each connection sends one more byte of its head every half second: always active,
            # never complete. Only the header timeout, which bounds the whole head, ends them.
            peak = server.rss()
            while time.monotonic() - started < HEADER_TIMEOUT - DRIP_INTERVAL:
                for sock in slow:
                    sock.send(b"a")
                peak = max(peak, server.rss())
                time.sleep(DRIP_INTERVAL)
            assert server.open_fds() >= baseline.fds + CONNECTIONS, "all slow connections were held at once"
        assert not probe.failures
        assert probe.latencies and max(probe.latencies) < MAX_LATENCY, probe.summary()
        # Every slow connection is answered 408 and closed once its head has taken HEADER_TIMEOUT.
        answers = dict.fromkeys(slow, b"")
        closed = 0
        for sock in slow:
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + HEADER_TIMEOUT + 10
        while closed < CONNECTIONS and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=1):
                ready = key.fileobj
                assert isinstance(ready, socket.socket)
                data = ready.recv(65536)
                answers[ready] += data
                if not data:
                    selector.unregister(ready)
                    closed += 1
        assert closed == CONNECTIONS
        assert all(data.startswith(b"HTTP/1.1 408 Request Timeout\r\n") for data in answers.values())
        elapsed = time.monotonic() - started
        # Bytes kept arriving until HEADER_TIMEOUT - DRIP_INTERVAL: a timeout restarted by each read
        # would have fired HEADER_TIMEOUT after the last byte, not HEADER_TIMEOUT after the first.
        assert elapsed < HEADER_TIMEOUT + 1.5
    finally:
        selector.close()
        for sock in slow:
            sock.close()
    after = server.settled(baseline)
    record("slowloris x500", baseline, peak, after, **probe.summary(), all_408_after_s=round(elapsed, 1))
    assert after <= baseline.rss + RSS_SLACK
