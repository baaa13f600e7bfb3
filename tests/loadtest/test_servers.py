"""The load tools stop every process they start, with its children, whatever interrupts them: real
child processes that ignore the polite signal, each in its own session as the tools start them."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtest import nginx, servers
from tests.integration.client import wait_until
from tests.integration.processes import ENV, REPO

# Ignores SIGTERM and SIGINT, forks a child that does too, prints both pids once both ignore them. The
# sleep only bounds its life should a test fail to kill it.
STUBBORN = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
child = os.fork()
if child:
    print(os.getpid(), child, flush=True)
time.sleep(30)
"""
# _run_locust on STUBBORN in place of locust, with a short stop timeout: what `python -m loadtest` does.
RUN_STUBBORN_LOCUST = f"""
import sys
from pathlib import Path
from loadtest import __main__ as command
command.STOP_TIMEOUT = 0.2
print(command._run_locust([sys.executable, "-c", {STUBBORN!r}], Path(sys.argv[1]), timeout=60))
"""


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process; a zombie, killed but not reaped by its parent, is not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.fixture
def leftovers() -> Iterator[list[int]]:
    """Pids a test started; any still running at the end (the test failed) are killed."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_stop_group_kills_the_group_when_the_first_signal_is_ignored(leftovers: list[int]) -> None:
    process = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, start_new_session=True)
    assert process.stdout is not None
    leader, child = map(int, process.stdout.readline().split())
    leftovers += [leader, child]
    started = time.monotonic()
    assert servers.stop_group(process, signal.SIGTERM, grace=0.2) == -signal.SIGKILL
    assert time.monotonic() - started >= 0.2, "SIGKILL only after the grace"
    assert wait_until(lambda: not running(child)), "the forked child is killed with its group"
    process.stdout.close()


def test_stop_group_ends_even_when_a_ctrl_c_left_popens_wait_lock_held(leftovers: list[int]) -> None:
    # What a KeyboardInterrupt between Popen._wait's acquire(False) and its try leaves behind (a CI
    # run hung here for 20 s): the private lock held, so Popen.wait() without a timeout never returns.
    process = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, start_new_session=True)
    assert process.stdout is not None
    leftovers += map(int, process.stdout.readline().split())
    process._waitpid_lock.acquire()  # type: ignore[attr-defined]
    assert servers.stop_group(process, signal.SIGTERM, grace=0.2) == -signal.SIGKILL
    process.stdout.close()


def test_stop_group_leaves_an_exited_process_alone() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], start_new_session=True)
    process.wait(timeout=20)
    assert servers.stop_group(process, signal.SIGTERM, grace=0.2) == 3


def test_a_server_interrupted_while_starting_is_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, leftovers: list[int]
) -> None:
    """A Ctrl-C while waiting for the port reaches only us: the server in its own session must be stopped."""
    waited: list[servers.ServerProcess] = []

    def interrupted(self: servers.ServerProcess, timeout: float = 20.0) -> None:
        waited.append(self)
        leftovers.append(self.pid)
        raise KeyboardInterrupt

    monkeypatch.setattr(servers.ServerProcess, "wait_ready", interrupted)
    command = [sys.executable, "-c", "import time; time.sleep(30)"]
    with pytest.raises(KeyboardInterrupt):
        servers.start("sleeper", command, servers.free_port(), None, tmp_path / "server.log")
    assert waited[0].process.returncode is not None


def test_a_ctrl_c_stops_a_locust_that_ignores_it_and_its_children(tmp_path: Path, leftovers: list[int]) -> None:
    log = tmp_path / "locust.log"
    loadtest = subprocess.Popen(
        [sys.executable, "-c", RUN_STUBBORN_LOCUST, str(log)],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    leftovers.append(loadtest.pid)
    assert wait_until(lambda: log.exists() and log.read_text().endswith("\n")), "locust stand-in did not start"
    leftovers += map(int, log.read_text().split())
    loadtest.send_signal(signal.SIGINT)  # what a Ctrl-C in the terminal delivers to python -m loadtest
    out, err = loadtest.communicate(timeout=20)
    assert (loadtest.returncode, err) == (0, "")
    assert out == f"{-signal.SIGKILL}\n", "killed after STOP_TIMEOUT * 3, its exit code returned"
    assert wait_until(lambda: not any(running(pid) for pid in leftovers[1:]))


@pytest.mark.skipif(not nginx.installed(), reason="nginx is not installed (apt-get install -y nginx-light)")
def test_the_nginx_peer_serves_the_docroot_from_its_generated_configuration_and_stops(tmp_path: Path) -> None:
    docroot = tmp_path / "site"
    docroot.mkdir()
    (docroot / "hello.txt").write_text("hello from the docroot\n" * 100)
    port = servers.free_port()
    process = servers.start("nginx", nginx.command(docroot, port), port, None, tmp_path / "nginx.log")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/hello.txt", headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200 and response.getheader("Content-Encoding") == "gzip"
        assert gzip.decompress(body) == (docroot / "hello.txt").read_bytes()
        connection.close()
    finally:
        process.stop()
    assert not running(process.pid)
