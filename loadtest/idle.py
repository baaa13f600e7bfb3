"""Idle keep-alive connections for the benchmark: opened, used for one request each, then held silent,
the way browsers keep connections open between page views. What they cost a server is its resident
memory divided by their number, and what they do to the busy connections' latency."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from loadtest import rawhttp

READ_CHUNK = 1 << 16


def rss_bytes(pid: int) -> int:
    """The resident set size of ``pid`` (VmRSS in /proc/<pid>/status); 0 where /proc is missing."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def _read_response(sock: socket.socket) -> None:
    """Read one whole response, so that the connection is idle after it. Raises OSError."""
    _status, headers, first = rawhttp.read_head(sock, READ_CHUNK)
    # The files asked for come with a Content-Length; without one, nothing more is read.
    length = max(rawhttp.content_length(headers), 0)
    if len(rawhttp.read_body(sock, first, length, READ_CHUNK)) < length:
        raise ConnectionError("closed inside the response body")


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
