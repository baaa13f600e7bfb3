"""Reading an HTTP/1.1 response off a plain blocking socket, for the load tools' raw-socket clients: the
slow clients of the locustfile and the idle connections of the benchmark. Enough for what a static file
server answers: a body framed by Content-Length, or by the close when there is none (RFC 9112 6.3);
no chunked coding, which these clients never meet on a file."""

from __future__ import annotations

import socket


class BadResponse(ConnectionError):
    """The server closed the connection early or answered something that is not HTTP. A ConnectionError,
    so a caller that gives up on a lost connection (the benchmark's) gives up on this too."""


def read_head(sock: socket.socket, chunk: int) -> tuple[int, dict[str, str], bytes]:
    """Status, header fields (lower-case names) and the body bytes that came with the head, read
    ``chunk`` bytes at a time. Raises BadResponse."""
    received = bytearray()
    while b"\r\n\r\n" not in received:
        data = sock.recv(chunk)
        if not data:
            raise BadResponse(f"connection closed after {len(received)} bytes, before a full response head")
        received += data
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise BadResponse(f"not an HTTP status line: {status_line!r}")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(parts[1]), headers, body


def content_length(headers: dict[str, str]) -> int:
    """The declared body length, -1 when there is none. Raises BadResponse for a malformed one."""
    value = headers.get("content-length", "-1")
    try:
        return int(value)
    except ValueError:
        raise BadResponse(f"malformed Content-Length {value!r}") from None


def read_body(sock: socket.socket, first: bytes, length: int, chunk: int) -> bytes:
    """The body of which ``first`` came with the head: ``length`` bytes, or up to the close when
    ``length`` is -1. A close before ``length`` bytes ends it short; the caller compares lengths."""
    body = bytearray(first)
    while length == -1 or len(body) < length:
        data = sock.recv(chunk)
        if not data:
            break
        body += data
    return bytes(body)
