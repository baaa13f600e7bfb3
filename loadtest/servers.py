"""Servers under test as child processes: start one pinned to a core, wait until it accepts, read its
CPU time, stop it by its pid. Shared by the load test and the benchmark."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class ServerError(Exception):
    """A server did not start or did not accept connections in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def pinned(command: list[str], cores: str | None) -> list[str]:
    """``command`` under ``taskset -c cores`` when taskset exists and a core list is given. taskset
    execs the command, so the child's pid stays the server's own."""
    if cores is None or shutil.which("taskset") is None:
        return command
    return ["taskset", "-c", cores, *command]


def available_cores() -> set[int]:
    """The CPUs this process may run on."""
    return os.sched_getaffinity(0)


def other_cores(core: int) -> str | None:
    """The CPUs we may run on except ``core``, as a taskset list ("1,2,3"), or None if none is left."""
    rest = sorted(available_cores() - {core})
    return ",".join(map(str, rest)) if rest else None


def reactor_command(docroot: Path, port: int, *flags: str) -> list[str]:
    """``python -m reactor`` serving ``docroot`` on 127.0.0.1:``port``, with extra ``flags``."""
    return [sys.executable, "-m", "reactor", "-b", "127.0.0.1", "-d", str(docroot), "--quiet", *flags, str(port)]


def ceiling_command(docroot: Path, port: int) -> list[str]:
    """The ceiling peer (loadtest/ceiling.py): a bare selectors loop answering cached bytes."""
    return [sys.executable, "-m", "loadtest.ceiling", str(docroot), str(port)]


def http_server_command(docroot: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", "-b", "127.0.0.1", "-d", str(docroot), str(port)]


def peer_command(template: str, docroot: Path, port: int) -> list[str]:
    """A ``--peer`` command line: ``{port}`` and ``{docroot}`` replaced, split like a shell would."""
    return [part.replace("{port}", str(port)).replace("{docroot}", str(docroot)) for part in shlex.split(template)]


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU time of ``pid`` and its live descendants (gunicorn workers, nginx workers),
    from /proc/<pid>/stat fields 14 and 15 (utime, stime, in clock ticks). (0.0, 0.0) where /proc is
    missing."""
    stats: dict[int, tuple[int, float, float]] = {}  # pid -> (parent pid, user, system)
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = entry.read_text()
        except OSError:
            continue  # exited while we looked
        fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces and ")"
        stats[int(entry.parent.name)] = (int(fields[1]), int(fields[11]) / ticks, int(fields[12]) / ticks)
    family = {pid}
    grew = True
    while grew:
        children = {child for child, (parent, *_) in stats.items() if parent in family} - family
        family |= children
        grew = bool(children)
    members = [stats[member] for member in family if member in stats]
    return sum(user for _, user, _ in members), sum(system for _, _, system in members)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` and its live descendants (cpu_times)."""
    return sum(cpu_times(pid))


def stop_group(process: subprocess.Popen[bytes], first_signal: signal.Signals, grace: float) -> int:
    """Stop ``process`` and the processes it forked: ``first_signal`` to its process group, then SIGKILL
    to the group if ``process`` has not exited after ``grace`` seconds, or if the wait is interrupted
    (a second Ctrl-C). ``process`` must lead its group (started with ``start_new_session``), so the
    group is ours alone. Returns its exit code."""
    if process.poll() is None:
        os.killpg(process.pid, first_signal)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass  # killed below
        finally:
            if process.poll() is None:  # unreaped, so its group still exists: nobody else can hold its id
                os.killpg(process.pid, signal.SIGKILL)
                _reap(process)
    return process.returncode


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Wait for ``process`` with waitpid itself: a Ctrl-C that lands in Popen.wait between its lock's
    acquire and its try can leave the lock held, and Popen.wait() would then block for ever."""
    if process.returncode is None:
        _pid, status = os.waitpid(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)


class ServerProcess:
    """One server under test. ``stop()`` ends it and its process group (SIGTERM, then SIGKILL after a
    grace)."""

    def __init__(self, name: str, command: list[str], port: int, log_path: Path) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO,  # `python -m reactor` from a clone needs no installation
            start_new_session=True,  # a Ctrl-C in our terminal reaches us, and we stop it in order
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Return once the port accepts a connection. Raises ServerError if the process exits or the
        deadline passes first, with the end of its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} exited with code {self.process.returncode}: {self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)  # polling a port that is not open yet: nothing to wait on but time
        raise ServerError(f"{self.name} did not accept on port {self.port} within {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "(no output)"

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def cpu_times(self) -> tuple[float, float]:
        return cpu_times(self.pid)

    def stop(self, grace: float = 10.0) -> int:
        """SIGTERM, then SIGKILL if it has not exited after ``grace`` seconds. Returns the exit code."""
        code = stop_group(self.process, signal.SIGTERM, grace)
        self._log.close()
        return code


def start(name: str, command: list[str], port: int, cores: str | None, log_path: Path) -> ServerProcess:
    """Start ``command`` (which must listen on 127.0.0.1:``port``) pinned to ``cores`` and wait until it
    accepts. Raises ServerError (after stopping it) if it does not come up; stops it on any other
    exception (KeyboardInterrupt) too."""
    server = ServerProcess(name, pinned(command, cores), port, log_path)
    try:
        server.wait_ready()
    except BaseException:  # a Ctrl-C too: in its own session, the terminal's SIGINT does not reach it
        server.stop()
        raise
    return server
