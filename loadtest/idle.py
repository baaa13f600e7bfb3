"""Idle keep-alive connections for the benchmark: opened, used for one request each, then held silent,
the way browsers keep connections open between page views. What they cost a server is its resident
memory divided by their number, and what they do to the busy connections' latency."""

from __future__ import annotations

import re
import socket
from pathlib import Path

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *([0-9]+)", re.IGNORECASE)


def rss_bytes(pid: int) -> int:
    """The resident set size of ``pid`` (VmRSS in /proc/<pid>/status); 0 where /proc is missing."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def _read_response(sock: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    match = _CONTENT_LENGTH.search(head)
    remaining = int(match.group(1)) - len(body) if match else 0
    while remaining > 0:
        chunk = sock.recv(min(remaining, 65536))
        if not chunk:
            raise ConnectionError("closed inside the response body")
        remaining -= len(chunk)


def hold(port: int, count: int, path: str) -> list[socket.socket]:
    """``count`` connections to 127.0.0.1:``port``, each having made one keep-alive GET of ``path``.
    The caller closes them. Raises OSError if the server refuses or closes one."""
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            held.append(sock)
            sock.sendall(request)
            _read_response(sock)
    except BaseException:
        release(held)
        raise
    return held


def release(held: list[socket.socket]) -> None:
    for sock in held:
        sock.close()
    held.clear()
