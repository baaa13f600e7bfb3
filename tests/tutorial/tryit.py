"""The tutorial's Try-it blocks, read from its Markdown and run as a reader runs them.

The convention (docs/tutorial/README.md tells the reader the same):

- Every ```sh block in docs/tutorial/ is a Try-it block. The line after it says ``You should see:``
  and a ```text block follows, with the lines the commands print.
- In those lines, ``<word>`` (lower-case letters) stands for one run of non-blank characters that
  differs from run to run: a port, a byte count. A line ``...`` stands for any number of lines.
- The server's lines (each starts with the address of the client it is about, ``127.0.0.1:``) and
  everyone else's (the tutorial client's ``client: ...``, curl's, the banners) are two streams:
  each must come in the order shown, but programs writing to one terminal at once may interleave
  differently.

How a chapter's blocks run (``run_chapter``): in one bash, from the repository root, in order, and
line by line as a reader types them: a line starts once the one before has finished, or, after a
line ending in ``&``, once that command has printed its first line; and once the output has been
quiet for a moment, as a reader reads before typing on. Port 8000, in the commands and in the
expected lines alike, becomes a free port of four digits (``free_port``), so that the tests never
take a port someone else uses.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PORT = re.compile(r"\b8000\b")  # the port the tutorial prints; replaced by a free one
PLACEHOLDER = re.compile(r"<[a-z]+>")
ANY_LINES = "..."
SERVER = "127.0.0.1:"  # how every line a tutorial server writes about a connection starts
MARKER = "\x1edone"  # ends the output of each foreground line (an ASCII record separator: never printed)
QUIET = 0.3  # seconds of silence before the next line is typed
LINE_TIMEOUT = 40  # the longest any one line may take


@dataclass(frozen=True)
class TryIt:
    commands: list[str]
    expected: list[str]
    line: int  # where the sh block starts in its file


def try_it_blocks(markdown: str, source: str = "") -> list[TryIt]:
    """The Try-it blocks of a Markdown text, in order. Raises ValueError, naming the line, for a sh
    block that is not followed by "You should see:" and a text block."""
    lines = markdown.splitlines()
    blocks, index = [], 0
    while index < len(lines):
        if lines[index].strip() != "```sh":
            index += 1
            continue
        start = index + 1
        commands, index = _fenced(lines, start)
        index = _skip_blank(lines, index)
        if index >= len(lines) or lines[index].strip() != "You should see:":
            raise ValueError(f'{source}:{start}: a sh block must be followed by "You should see:" and a text block')
        index = _skip_blank(lines, index + 1)
        if index >= len(lines) or lines[index].strip() != "```text":
            raise ValueError(f"{source}:{index + 1}: no ```text block after You should see:")
        expected, index = _fenced(lines, index + 1)
        blocks.append(TryIt(commands, expected, start))
    return blocks


def _fenced(lines: list[str], start: int) -> tuple[list[str], int]:
    """The lines from ``start`` to the closing fence, and the index after it."""
    end = start
    while end < len(lines) and lines[end].strip() != "```":
        end += 1
    if end == len(lines):
        raise ValueError(f"line {start}: a fenced block that never ends")
    return lines[start:end], end + 1


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def pattern(line: str) -> re.Pattern[str]:
    """An expected line as a regular expression: placeholders match one run of non-blanks."""
    parts = PLACEHOLDER.split(line)
    return re.compile(r"\S+".join(re.escape(part) for part in parts))


def matches(expected: list[str], output: list[str]) -> bool:
    """Whether ``output`` is ``expected``, line for line, with ``...`` standing for any lines."""
    patterns = [None if line == ANY_LINES else pattern(line) for line in expected]
    # reachable[j]: the expected lines so far can account for the first j output lines
    reachable = [True] + [False] * len(output)
    for compiled in patterns:
        if compiled is None:
            for j in range(1, len(output) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
        else:
            reachable = [False] + [reachable[j] and bool(compiled.fullmatch(output[j])) for j in range(len(output))]
    return reachable[-1]


def streams(lines: list[str]) -> tuple[list[str], list[str]]:
    """(the server's lines, the others'); a ``...`` line belongs to both."""
    server = [line for line in lines if line.startswith(SERVER) or line == ANY_LINES]
    others = [line for line in lines if not line.startswith(SERVER)]
    return server, others


def mismatch(expected: list[str], output: list[str]) -> str | None:
    """None when ``output`` shows what ``expected`` says, else what differs, for a failure message."""
    for name, want, got in zip(("server's", "other"), streams(expected), streams(output), strict=True):
        if not matches(want, got):
            return f"the {name} lines differ.\nexpected:\n" + "\n".join(want) + "\ngot:\n" + "\n".join(got)
    return None


def free_port() -> int:
    """A port nobody listens on, of four digits like 8000: the client's Host header carries the
    port, so byte counts in the expected lines hold only for a port as long as the printed one."""
    for port in random.sample(range(8001, 10000), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port between 8001 and 9999")


class Shell:
    """One bash, fed a line at a time; its stdout and stderr are collected as lines."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            text=True,
            start_new_session=True,  # its own process group: whatever it leaves running is stopped with it
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.last_output = time.monotonic()
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def _next(self, timeout: float) -> str | None:
        try:
            line = self.lines.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None
        self.last_output = time.monotonic()
        if not line.startswith(MARKER):
            self.output.append(line)
        return line

    def _type(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def run(self, command: str) -> None:
        """Type ``command`` once the output has been quiet, and wait as a reader would."""
        deadline = time.monotonic() + LINE_TIMEOUT
        while (quiet := time.monotonic() - self.last_output) < QUIET:
            self._next(min(QUIET - quiet, deadline - time.monotonic()))
        if command.endswith("&"):
            printed = len(self.output)
            self._type(command)
            while len(self.output) == printed:
                assert time.monotonic() < deadline, f"{command!r} printed nothing in {LINE_TIMEOUT} s"
                self._next(deadline - time.monotonic())
            return
        self._type(command)
        self._type(f"printf '{MARKER} %s\\n' $?")
        while (line := self._next(deadline - time.monotonic())) is None or not line.startswith(MARKER):
            assert time.monotonic() < deadline, f"{command!r} did not finish in {LINE_TIMEOUT} s"

    def settle(self) -> list[str]:
        """The output so far, once it has been quiet for a moment."""
        self.run(":")  # a no-op typed after the wait
        return list(self.output)

    def stop(self) -> None:
        """End the shell and everything it still runs (its own process group)."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=5)


def commands(block: TryIt) -> list[str]:
    """The block's commands as typed: a line ending in a backslash continues on the next; blank and
    comment lines are skipped."""
    typed, pending = [], ""
    for line in block.commands:
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.strip() and not line.lstrip().startswith("#"):
            typed.append(line.strip())
    return typed


def run_chapter(path: Path, repo: Path, tmp: Path) -> list[str]:
    """Run every Try-it block of ``path`` in one shell; return one message per block whose output
    is not what the Markdown says (none when all are)."""
    port = str(free_port())
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # python3: this one
    env["TMPDIR"] = str(tmp)  # mktemp -d makes its folders here
    shell = Shell(repo, env)
    failures = []
    try:
        for block in try_it_blocks(path.read_text(), path.name):
            before = len(shell.output)
            for command in commands(block):
                shell.run(PORT.sub(port, command))
            output = shell.settle()[before:]
            expected = [PORT.sub(port, line) for line in block.expected]
            problem = mismatch(expected, output)
            if problem is not None:
                failures.append(f"{path.name}:{block.line} (port 8000 is {port} here): {problem}")
    finally:
        shell.stop()
    return failures
