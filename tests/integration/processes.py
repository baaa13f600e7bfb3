"""Commands run as a user runs them: ``python -m MODULE ARGS`` in a child process, from the repository,
with the repository importable. One class serves the CLI, example and robustness tests alike."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


class ChildProcess:
    """A server in a child; ``port`` is read from the " port N " of its first line (``banner``), which
    must start with ``expect``. Its stderr goes to ``stderr_path``."""

    def __init__(
        self,
        module: str,
        *args: str,
        stderr_path: Path,
        cwd: Path = REPO,
        expect: str = "",
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=cwd,
            env=ENV,
            start_new_session=True,  # its own process group: a test may signal the group, as a terminal does
            preexec_fn=preexec_fn,  # noqa: PLW1509  (only where no thread runs yet: see the robustness harness)
        )
        assert self.process.stdout is not None
        self.banner = self.process.stdout.readline().decode()
        match = re.search(r" port (\d+) ", self.banner)
        assert match and self.banner.startswith(expect), self.banner or stderr_path.read_text()
        self.port = int(match[1])
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Signal the child unless it has exited; return its exit code."""
        if self.alive():
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=20)
        finally:
            self._close_pipes()

    def kill(self) -> None:
        """Test teardown: whatever still runs is killed."""
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        self._stderr.close()
        assert self.process.stdout is not None
        self.process.stdout.close()


class ReactorProcess(ChildProcess):
    """``python -m reactor ARGS``: its first line must be the "Serving HTTP on" banner."""

    def __init__(
        self, *args: str, stderr_path: Path, cwd: Path = REPO, preexec_fn: Callable[[], None] | None = None
    ) -> None:
        super().__init__(
            "reactor", *args, stderr_path=stderr_path, cwd=cwd, expect="Serving HTTP on ", preexec_fn=preexec_fn
        )


def run_module(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGS`` to completion, its output captured as text."""
    command = [sys.executable, "-m", module, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, env=ENV, cwd=REPO, check=False)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_module("reactor", *args)
