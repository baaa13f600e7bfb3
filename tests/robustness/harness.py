"""A server in a child process that the robustness tests can measure from the outside: its resident
memory (VmRSS), CPU time and open descriptors come from /proc, so what is measured is the whole
process, interpreter included, as an operator would see it."""

from __future__ import annotations

import os
import resource
import selectors
import socket
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.client import wait_until
from tests.integration.processes import ReactorProcess

MiB = 1 << 20
TICKS = os.sysconf("SC_CLK_TCK")

# Memory the server may keep after a scenario: CPython's allocator returns freed arenas to the system
# only when they are entirely empty, so a few MiB can stay mapped after thousands of objects are gone.
RSS_SLACK = 8 * MiB

FIGURES: list[dict[str, object]] = []
"""What each scenario measured, printed at the end of the run (see conftest.py)."""


class MeasuredServer(ReactorProcess):
    """``python -m reactor`` serving ``docroot`` on 127.0.0.1, with optional extra flags and an
    RLIMIT_NOFILE soft limit set in the child before it starts."""

    def __init__(self, docroot: Path, *flags: str, log: Path, nofile: int | None = None) -> None:
        super().__init__(
            *("-b", "127.0.0.1", "-d", str(docroot), "-q", *flags, "0"),
            stderr_path=log,
            # Safe here: servers are started before any thread of the test (LatencyProbe) runs.
            preexec_fn=None if nofile is None else _limit_descriptors(nofile),
        )

    def rss(self) -> int:
        """Resident memory in bytes."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS line")

    def cpu_seconds(self) -> float:
        """User plus system CPU time used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def get(self, path: str = "/hello.txt", timeout: float = 10) -> tuple[int, float]:
        """One request on a new connection; return (status, seconds until the whole response)."""
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 "), data[:100]
        return int(data[9:12]), time.monotonic() - started

    def warm_up(self) -> Baseline:
        """Serve a few requests so lazily built state exists, then take the baseline."""
        for _ in range(20):
            assert self.get()[0] == 200
        return Baseline(rss=self.rss(), fds=self.open_fds())

    def settled(self, baseline: Baseline, timeout: float = 15) -> int:
        """Wait until the server holds no more descriptors than at the baseline (every connection and
        file closed); return its RSS then. Asserts it is still serving."""
        assert wait_until(lambda: self.open_fds() <= baseline.fds, timeout=timeout), (
            f"{self.open_fds()} descriptors open, {baseline.fds} at the baseline"
        )
        assert self.get()[0] == 200, "a normal request is answered afterwards"
        return self.rss()


def _limit_descriptors(nofile: int) -> Callable[[], None]:
    def limit() -> None:
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))

    return limit


@dataclass(frozen=True)
class Baseline:
    rss: int
    fds: int


@dataclass
class LatencyProbe:
    """Sends a normal request every ``interval`` seconds on a thread, on a new connection each time,
    and records how long each took, while the test does something hostile on the main thread."""

    server: MeasuredServer
    interval: float = 0.02
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-probe", daemon=True)

    def __enter__(self) -> LatencyProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                status, seconds = self.server.get(timeout=5)
            except OSError as error:
                self.failures.append(repr(error))
                continue
            if status != 200:
                self.failures.append(f"status {status}")
            self.latencies.append(seconds)

    def summary(self) -> dict[str, object]:
        ordered = sorted(self.latencies)
        return {
            "requests": len(ordered),
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1),
        }


def record(scenario: str, baseline: Baseline, peak: int, after: int, **extra: object) -> None:
    FIGURES.append(
        {
            "scenario": scenario,
            "rss_baseline_mib": round(baseline.rss / MiB, 1),
            "rss_peak_mib": round(peak / MiB, 1),
            "rss_after_mib": round(after / MiB, 1),
            **extra,
        }
    )


def raise_descriptor_limit(needed: int) -> None:
    """Raise this process's soft RLIMIT_NOFILE towards its hard limit so ``needed`` sockets fit (the
    server child inherits it). Asserts the hard limit allows it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        assert hard == resource.RLIM_INFINITY or hard >= needed, f"RLIMIT_NOFILE hard limit {hard} < {needed}"
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else needed, hard))


def read_each(
    clients: list[socket.socket], done: Callable[[bytes], bool], timeout: float = 30
) -> dict[socket.socket, bytes]:
    """Read every (non-blocking) client until ``done`` holds of what it received; return what each
    received. Asserts none is closed and all are done within ``timeout``."""
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    received = dict.fromkeys(clients, b"")
    for sock in clients:
        selector.register(sock, selectors.EVENT_READ)
    pending = len(clients)
    while pending:
        events = selector.select(timeout=max(0.0, deadline - time.monotonic()))
        assert events, f"{pending} clients still waiting after {timeout} s"
        for key, _ in events:
            ready = key.fileobj
            assert isinstance(ready, socket.socket)
            data = ready.recv(65536)
            assert data, "the server closed a connection"
            received[ready] += data
            if done(received[ready]):
                selector.unregister(ready)
                pending -= 1
    selector.close()
    return received
