"""``--workers N``: several reactors share one port under a supervisor."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.handlers.test_metrics import check_metrics, samples
from tests.integration.browser import dump_dom
from tests.integration.client import RawClient, request, start_download, wait_until
from tests.integration.processes import ReactorProcess, run_cli

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find the workers")


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def open_sockets(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # the descriptor closed while we looked
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return count


def listening(pid: int, port: int) -> bool:
    """True when ``pid`` holds a socket listening on 127.0.0.1:``port`` (/proc/net/tcp, state 0A). With
    SO_REUSEPORT each worker binds and listens after the fork, a moment after it exists."""
    inodes = set()
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False  # it exited while we looked
    for fd in descriptors:
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == "0A" and fields[9] in inodes:
                return True
    return False


def all_listening(server: ReactorProcess, count: int) -> bool:
    workers = children(server.process.pid)
    return len(workers) == count and all(listening(pid, server.port) for pid in workers)


def gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie counts: it runs no more)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture
def supervise(spawn: Callable[..., ReactorProcess], docroot: Path) -> Iterator[Callable[..., ReactorProcess]]:
    """``supervise(workers, *flags)``: the docroot served with ``--workers workers`` and ``flags``; after
    the test the supervisor is stopped and any worker it left is killed."""
    started: list[ReactorProcess] = []

    def start(workers: str, *flags: str) -> ReactorProcess:
        server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--workers", workers, *flags, "0")
        started.append(server)
        return server

    yield start
    for server in started:
        workers = children(server.process.pid)  # before the supervisor goes: then they are init's
        server.stop()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def two_workers(supervise: Callable[..., ReactorProcess]) -> ReactorProcess:
    server = supervise("2")
    assert wait_until(lambda: all_listening(server, 2))
    return server


def test_both_workers_answer(two_workers: ReactorProcess) -> None:
    workers = children(two_workers.process.pid)
    before = {pid: open_sockets(pid) for pid in workers}
    clients = [RawClient(two_workers.port) for _ in range(40)]
    try:
        for client in clients:
            client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            assert client.read_response().body == b"hello world\n"
        # Each worker now holds some of the 40 keep-alive connections as open sockets.
        holding = {pid: open_sockets(pid) - before[pid] for pid in workers}
        assert all(count > 0 for count in holding.values()), holding
        assert sum(holding.values()) == 40
    finally:
        for client in clients:
            client.close()


def test_a_killed_worker_is_replaced(two_workers: ReactorProcess) -> None:
    victim = min(children(two_workers.process.pid))
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: victim not in children(two_workers.process.pid))
    assert wait_until(lambda: len(children(two_workers.process.pid)) == 2)
    for _ in range(20):
        assert request(two_workers.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 200


def test_sigterm_drains_every_worker_and_exits_0(two_workers: ReactorProcess, docroot: Path) -> None:
    data = os.urandom(16 << 20)
    (docroot / "big.bin").write_bytes(data)
    clients = [start_download(two_workers.port, "/big.bin") for _ in range(8)]
    two_workers.process.send_signal(signal.SIGTERM)
    for client in clients:
        response = client.read_response()
        assert hashlib.sha256(response.body).digest() == hashlib.sha256(data).digest()
        client.close()
    assert two_workers.process.wait(timeout=20) == 0
    assert wait_until(lambda: not children(two_workers.process.pid))


def test_ctrl_c_in_a_terminal_drains_the_workers(two_workers: ReactorProcess, docroot: Path) -> None:
    # A terminal sends SIGINT to its whole foreground process group: every worker gets it directly, and
    # the supervisor forwards its own. That is still one request to drain, not "again: close now".
    data = os.urandom(16 << 20)
    (docroot / "big.bin").write_bytes(data)
    with start_download(two_workers.port, "/big.bin") as client:
        os.killpg(two_workers.pid, signal.SIGINT)  # the children were started in a session of their own
        response = client.read_response()
    assert hashlib.sha256(response.body).digest() == hashlib.sha256(data).digest()
    assert two_workers.process.wait(timeout=20) == 0


def test_auto_starts_one_worker_per_cpu(supervise: Callable[..., ReactorProcess]) -> None:
    # reactor.supervisor.parse_worker_count: the CPUs this process may run on, which the child inherits.
    cpus = len(os.sched_getaffinity(0))
    if cpus == 1:
        pytest.skip("one CPU: auto is a single reactor without a supervisor")
    server = supervise("auto")
    assert wait_until(lambda: all_listening(server, cpus))
    assert request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
    assert server.stop() == 0


def test_sigint_is_forwarded_to_every_worker_and_exits_0(two_workers: ReactorProcess, tmp_path: Path) -> None:
    workers = children(two_workers.process.pid)
    two_workers.process.send_signal(signal.SIGINT)  # to the supervisor alone, not its process group
    # Well before grace + 5 s (15 s by default), when the supervisor would kill workers left running.
    assert two_workers.process.wait(timeout=10) == 0
    assert all(gone(pid) for pid in workers)
    assert "killing it" not in (tmp_path / "stderr0.txt").read_text(), "every worker stopped by itself"


def test_bad_worker_count_is_one_line_and_exit_2() -> None:
    result = run_cli("--workers", "0", "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "worker" in result.stderr


def test_workers_stop_when_their_supervisor_is_killed(two_workers: ReactorProcess) -> None:
    workers = children(two_workers.process.pid)
    two_workers.process.kill()  # SIGKILL: nothing is forwarded
    two_workers.process.wait(timeout=10)
    assert wait_until(lambda: all(gone(pid) for pid in workers), timeout=10), "orphaned workers kept running"


def test_the_status_page_of_two_workers_shows_the_whole_server(
    supervise: Callable[..., ReactorProcess], tmp_path: Path
) -> None:
    """Issue 25: each poll used to show the numbers of whichever worker took it (12, 13, 11, 14...)."""
    server = supervise("2", "--status-path", "/-/status")
    assert wait_until(lambda: all_listening(server, 2))
    for _ in range(40):  # a connection each: the kernel spreads them over both workers
        assert request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
    answered_by: set[int] = set()
    totals: list[int] = []

    def poll() -> bool:
        document = json.loads(request(server.port, b"GET /-/status.json HTTP/1.1\r\nHost: t\r\n\r\n").body)
        worker, workers = document["worker"], document["workers"]
        assert worker["of"] == 2 and worker["pid"] in children(server.process.pid)
        answered_by.add(worker["number"])
        totals.append(document["statistics"]["requests"])
        if len(workers) == 2:  # once each has left its numbers (at once, when it starts)
            assert sorted(each["number"] for each in workers) == [1, 2]
            assert totals[-1] == sum(each["statistics"]["requests"] for each in workers)
        # The other worker's numbers are those it left last: at most a second old.
        return answered_by == {1, 2} and len(totals) >= 6 and totals[-1] >= 40

    assert wait_until(poll, timeout=30)
    assert totals == sorted(totals), totals  # the whole server's, never going back
    text = request(server.port, b"GET /-/status/metrics HTTP/1.1\r\nHost: t\r\n\r\n").body.decode()
    check_metrics(text)
    values = samples(text)
    served = [values.get(f'reactor_requests_total{{method="GET",status="2xx",worker="{n}"}}', 0) for n in (1, 2)]
    assert all(served) and sum(served) >= 40, served
    assert values["reactor_workers"] == 2
    dom = dump_dom(f"http://127.0.0.1:{server.port}/-/status", tmp_path / "profile", virtual_time_ms=2000)
    said = re.search(r'id="worker">([^<]*)<', dom)
    assert said and re.fullmatch(
        r"· the whole server's numbers \(2 of 2 workers\), answered by worker [12] \(pid \d+\)", said[1]
    ), dom[:3000]
