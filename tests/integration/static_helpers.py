"""Requests with chosen header fields answered as exact bytes, and multipart bodies parsed back."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterable
from email.message import EmailMessage

from tests.integration.client import Response, request


def fetch(port: int, target: str, headers: Iterable[tuple[str, str]] = (), method: str = "GET") -> Response:
    """Send ``method target`` with ``headers`` (in order, repeats allowed) and read the response."""
    lines = [f"{method} {target} HTTP/1.1", "Host: t", *(f"{name}: {value}" for name, value in headers)]
    return request(port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), method)


def names(response: Response) -> list[str]:
    """The header field names of ``response``, lower-cased, in order."""
    return [name.lower() for name, _value in response.headers]


def parse_multipart(response: Response) -> list[EmailMessage]:
    """The parts of a multipart/byteranges response, parsed by the standard library's MIME parser."""
    head = f"Content-Type: {response.header('Content-Type')}\r\n\r\n".encode()
    message = email.message_from_bytes(head + response.body, policy=email.policy.HTTP)
    assert isinstance(message, EmailMessage) and message.is_multipart()
    return list(message.iter_parts())  # type: ignore[arg-type]


class AccessRecord:
    """An access log for a LiveServer that keeps (request line, status) pairs for assertions, and the
    whole lines (client, user, request line, status, body bytes sent)."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, int]] = []
        self.lines: list[tuple[str, str, str, int, int]] = []

    def __call__(self, client: str, user: str, request_line: str, status: int, size: int) -> None:
        # list.append is atomic: the loop thread writes, tests read
        self.lines.append((client, user, request_line, status, size))
        self.entries.append((request_line, status))
