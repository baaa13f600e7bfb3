"""A tutorial program run as its reader runs it (``python -m examples.tutorial.stepN``), with the
lines it prints collected as they come, so a test can wait for one with a deadline."""

from __future__ import annotations

import queue
import re
import socket
import subprocess
import sys
import threading
import time

from tests.integration.processes import ENV, REPO


class Program:
    def __init__(self, module: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", f"examples.tutorial.{module}", *args, "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=ENV,
            text=True,
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        match = re.search(r" port (\d+) ", banner)
        assert match, banner + self.process.stderr.read()  # type: ignore[union-attr]
        self.port = int(match[1])
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._new.put(line.rstrip("\n"))

    def _drain(self, timeout: float) -> bool:
        try:
            self.lines.append(self._new.get(timeout=timeout))
        except queue.Empty:
            return False
        while not self._new.empty():
            self.lines.append(self._new.get_nowait())
        return True

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 10) -> list[str]:
        """The lines matching ``pattern`` once there are ``count`` of them; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.lines if re.search(pattern, line)]
            if len(found) >= count:
                return found
            left = deadline - time.monotonic()
            assert left > 0, f"no {count} lines matching {pattern!r} in {timeout}s: {self.lines[-20:]}"
            self._drain(left)

    def quiet_for(self, pattern: str, seconds: float) -> bool:
        """True when no new line matching ``pattern`` comes within ``seconds`` (a bounded wait for
        something that must not happen)."""
        seen = len([line for line in self.lines if re.search(pattern, line)])
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._drain(left)
            if len([line for line in self.lines if re.search(pattern, line)]) > seen:
                return False
        return True

    def connect(self, timeout: float = 10) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def threads(self) -> int:
        """The program's thread count, as the kernel sees it."""
        with open(f"/proc/{self.process.pid}/status") as status:
            return int(next(line.split()[1] for line in status if line.startswith("Threads:")))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=10)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


def receive_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection (bounded by the socket's timeout)."""
    chunks = []
    while data := sock.recv(65536):
        chunks.append(data)
    return b"".join(chunks)


def read_response(sock: socket.socket, buffer: bytearray) -> tuple[bytes, bytes]:
    """One Content-Length framed response from ``sock``: (head, body). ``buffer`` keeps what follows."""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        assert data, f"closed before a full head: {bytes(buffer)!r}"
        buffer += data
    end = buffer.index(b"\r\n\r\n")
    head = bytes(buffer[:end])
    del buffer[: end + 4]
    length = int(re.search(rb"Content-Length: (\d+)", head)[1])  # type: ignore[index]
    while len(buffer) < length:
        data = sock.recv(1 << 20)
        assert data, "closed inside a body"
        buffer += data
    body = bytes(buffer[:length])
    del buffer[:length]
    return head, body
