"""The ceiling peer answers as the benchmark needs: cached files, 404s, pipelines and closes, over
loopback, from a real process."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtest import servers


@pytest.fixture
def ceiling(tmp_path: Path) -> Iterator[int]:
    root = tmp_path / "site"
    (root / "data").mkdir(parents=True)
    (root / "data" / "1KiB.bin").write_bytes(bytes(range(256)) * 4)
    port = servers.free_port()
    process = servers.start("ceiling", servers.ceiling_command(root, port), port, None, tmp_path / "log")
    try:
        yield port
    finally:
        process.stop()


def fetch(port: int, data: bytes, responses: int = 1) -> list[bytes]:
    """Send ``data``, read until ``responses`` whole responses have come; return their heads and bodies."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        buffer = b""
        found: list[bytes] = []
        while len(found) < responses:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
            while (end := buffer.find(b"\r\n\r\n")) >= 0:
                head = buffer[:end]
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                if len(buffer) < end + 4 + length:
                    break
                found.append(buffer[: end + 4 + length])
                buffer = buffer[end + 4 + length :]
        return found


GET = b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n"


def test_a_cached_file_a_404_and_a_pipeline_are_answered(ceiling: int) -> None:
    [answer] = fetch(ceiling, GET % b"/data/1KiB.bin")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(bytes(range(256)) * 4)
    [missing] = fetch(ceiling, GET % b"/nothing")
    assert missing.startswith(b"HTTP/1.1 404 ")
    answers = fetch(ceiling, GET % b"/data/1KiB.bin" * 16, responses=16)
    assert len(answers) == 16


def test_connection_close_is_honoured(ceiling: int) -> None:
    with socket.create_connection(("127.0.0.1", ceiling), timeout=10) as sock:
        sock.sendall(b"GET /data/1KiB.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert b"Connection: close\r\n" in received and received.endswith(bytes(range(256)) * 4)


def test_it_runs_as_a_module_and_refuses_a_missing_docroot(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "loadtest.ceiling", str(tmp_path / "nope"), "0"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=servers.REPO,
        check=False,
    )
    assert done.returncode == 2 and "no such directory" in done.stderr
