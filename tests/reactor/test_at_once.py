"""A request answered at once (HTTPConnection._answer_at_once: one read that is one whole head, and a
response the handler made before) is answered as the long way answers it: the handler called through
an Exchange, the cycle's hops one by one, the response queued and sent after the callback. Two
servers over the same files, one with the static handler as it is and one whose handler hides its
prepared answers, are fed the same reads; what each peer receives, the counts, the access log and
the transport's state and timer must be the same after every read."""

from __future__ import annotations

import dataclasses
import functools
import io
import re
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.static.staticfiles import StaticFiles
from reactor.exchange import Exchange
from reactor.httpconnection import ConnectionConfig, HTTPConnection
from reactor.limits import Limits
from reactor.loop.clock import HttpDate
from reactor.loop.eventloop import EventLoop
from reactor.net.iostate import IOState
from reactor.net.transport import Transport
from reactor.testing import FakeClock, read_available, tick
from reactor.trace.tracer import Tracer

SMALL = bytes(range(256)) * 4  # answered from the cache, head and body in one buffer
JOINED_LIMIT_PAST = b"j" * (20 * 1024)  # cached, but past the size a body leaves joined to its head


def make_site(root: Path) -> Path:
    (root / "1k.bin").write_bytes(SMALL)
    (root / "20k.bin").write_bytes(JOINED_LIMIT_PAST)
    (root / "dir").mkdir()
    (root / "dir" / "a.txt").write_bytes(b"a\n")
    (root / ".hidden").write_bytes(b"h")
    return root


class Server:
    """One HTTP connection on a real transport over a socketpair; the loop ticked by hand, a fake
    clock for its timers and the file cache, a fixed Date."""

    def __init__(
        self, root: Path, clock: FakeClock, at_once: bool, logged: bool = False, tracer: Tracer | None = None
    ) -> None:
        self.tracer = tracer
        self.clock = clock
        self.loop = EventLoop(clock=clock)
        self.limits = dataclasses.replace(Limits(), keepalive_timeout=5.0)
        static = StaticFiles(str(root), clock=clock)
        self.static = static
        # A partial has no prepared_answer: every request goes through an Exchange.
        handler = static if at_once else functools.partial(StaticFiles.__call__, static)
        self.log: list[tuple[object, ...]] = []
        access_log = (lambda *line: self.log.append(line)) if logged else None
        self.config = ConnectionConfig(handler, self.limits, access_log)
        self.config.http_date = HttpDate(wall=lambda: 1_800_000_000.0)
        self.connect()

    def connect(self) -> None:
        """A new connection to the same server (its caches warm)."""
        self.connection = HTTPConnection(self.config)
        self.peer, ours = socket.socketpair()
        ours.setblocking(False)
        self.peer.setblocking(False)
        self.transport = Transport(
            self.loop, ours, ("127.0.0.1", 40000), self.connection, self.limits, tracer=self.tracer
        )
        self.transport.start()

    def reconnect(self) -> None:
        self.transport.abort("next connection")
        self.peer.close()
        self.connect()

    def send(self, data: bytes) -> bytes:
        """``data`` as one read of the server; what the peer received for it."""
        self.peer.send(data)
        tick(self.loop)
        received = read_available(self.peer)
        while self.transport.queued:  # a response larger than one send: the peer keeps reading
            tick(self.loop)
            received += read_available(self.peer)
        return received

    def state(self) -> tuple[object, ...]:
        transport = self.transport
        counters = transport.counters
        return (
            transport.state,
            transport.close_reason,
            transport.queued,
            transport.sent,
            counters.bytes_received,
            counters.requests,
            counters.responses,
            self.connection.requests,
            self.log,
            # Which timer runs, for what: private, and the part of the state a shortcut could get
            # wrong without a byte on the wire showing it until the timeout.
            transport._timeout,
            transport._read_timeout,
        )

    def close(self) -> None:
        self.transport.abort("test over")
        self.static.close()
        self.peer.close()
        self.loop.close()


requests = st.builds(
    lambda method, path, version, fields: f"{method} {path} HTTP/{version}\r\nHost: h\r\n{''.join(fields)}\r\n",
    st.sampled_from(["GET", "GET", "GET", "HEAD", "OPTIONS", "POST"]),
    st.sampled_from(["/1k.bin", "/1k.bin", "/20k.bin", "/missing", "/dir/", "/dir", "/%zz", "/.hidden"]),
    st.sampled_from(["1.1", "1.1", "1.1", "1.0"]),
    st.lists(
        st.sampled_from(
            [
                "Connection: close\r\n",
                "Connection: keep-alive\r\n",
                "If-None-Match: *\r\n",
                'If-None-Match: "other"\r\n',
                "Range: bytes=0-9\r\n",
                "Accept-Encoding: gzip\r\n",
                "Content-Length: 3\r\n",
                "Expect: 100-continue\r\n",
                "X-Any: 1\r\n",
            ]
        ),
        max_size=2,
        unique=True,
    ),
).map(lambda head: head.encode() + (b"abc" if b"Content-Length: 3" in head.encode() else b""))

# How the requests reach the server: each alone in a read (mostly), two in one, or one cut in two.
reads = st.lists(
    st.one_of(
        requests.map(lambda request: [request]),
        requests.map(lambda request: [request]),
        st.tuples(requests, requests).map(lambda pair: [pair[0] + pair[1]]),
        st.tuples(requests, st.integers(1, 30)).map(lambda cut: [cut[0][: cut[1]], cut[0][cut[1] :]]),
    ),
    min_size=1,
    max_size=8,
).map(lambda groups: [read for group in groups for read in group if read])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_site(tmp_path_factory.mktemp("site"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reads=reads, logged=st.booleans())
def test_a_request_answered_at_once_is_answered_as_the_long_way_answers_it(
    site: Path, reads: list[bytes], logged: bool
) -> None:
    clock = FakeClock()
    at_once, long_way = Server(site, clock, True, logged), Server(site, clock, False, logged)
    try:
        # Each file asked for once first: later requests for it find their answer made.
        for path in (b"/1k.bin", b"/20k.bin", b"/missing"):
            warm_up = b"GET " + path + b" HTTP/1.1\r\nHost: h\r\n\r\n"
            assert at_once.send(warm_up) == long_way.send(warm_up)
        # A connection's first request may find its answer made by an earlier one's.
        at_once.reconnect()
        long_way.reconnect()
        for data in reads:
            if at_once.transport.state is IOState.CLOSED:
                break
            assert at_once.send(data) == long_way.send(data)
            assert at_once.state() == long_way.state()
        clock.advance(at_once.limits.keepalive_timeout + 1)  # the timer each armed ends both alike
        tick(at_once.loop)
        tick(long_way.loop)
        assert at_once.state() == long_way.state()
    finally:
        at_once.close()
        long_way.close()


def test_cached_answers_are_sent_at_once_without_an_exchange(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(site, FakeClock(), at_once=True)
    made: list[Exchange] = []
    original = Exchange.__init__

    def counted(self: Exchange, *args: object) -> None:
        made.append(self)
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Exchange, "__init__", counted)
    try:
        get = b"GET /1k.bin HTTP/1.1\r\nHost: h\r\n\r\n"
        assert server.send(get).endswith(SMALL)
        assert len(made) == 1  # the first: the file is read and its answer made
        for _ in range(3):
            assert server.send(get).endswith(SMALL)
        assert server.send(b"GET /missing HTTP/1.1\r\nHost: h\r\n\r\n").startswith(b"HTTP/1.1 404 ")
        assert server.send(b"GET /missing HTTP/1.1\r\nHost: h\r\n\r\n").startswith(b"HTTP/1.1 404 ")
        assert len(made) == 2  # the 404's first time
        assert server.connection.requests == 6
        assert server.transport.counters.responses["GET"][2] == 4
    finally:
        server.close()


def test_under_a_trace_every_hop_of_a_cached_answer_is_told_as_on_the_long_way(site: Path) -> None:
    clock = FakeClock()
    traces = io.StringIO(), io.StringIO()
    at_once = Server(site, clock, True, tracer=Tracer(traces[0], clock))
    long_way = Server(site, clock, False, tracer=Tracer(traces[1], clock))
    try:
        for _ in range(2):  # the second finds its answer made
            get = b"GET /1k.bin HTTP/1.1\r\nHost: h\r\n\r\n"
            assert at_once.send(get) == long_way.send(get)
        lines, long_way_lines = (re.sub(r"fd=\d+", "fd=N", trace.getvalue()).splitlines() for trace in traces)
        assert lines == long_way_lines
        facts = [line.split(maxsplit=2)[2] for line in lines[-8:]]
        assert "request GET /1k.bin HTTP/1.1" in facts and "phase done -> idle (next cycle)" in facts
    finally:
        at_once.close()
        long_way.close()
