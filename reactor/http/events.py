"""What the request parser hands out: a request head, body data, the end of a message, or a pause."""

from __future__ import annotations

import enum


class Headers(list[tuple[str, str]]):
    """Request header fields in arrival order, names lower-cased (field names are case-insensitive,
    RFC 9110 5.1). A few fields per request make a linear scan cheaper than building a dict; a list,
    so that making one, iterating it and its length stay in C. ``name in headers`` asks for a name."""

    __slots__ = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of ``name`` (lower-case), or ``default``."""
        for key, value in self:
            if key == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Return every value of ``name`` (lower-case), in arrival order."""
        return [value for key, value in self if key == name]

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self)

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"


class Request:
    """A parsed request head. ``path`` and ``query`` are still percent-encoded, as they arrived."""

    __slots__ = (
        "method",
        "target",
        "path",
        "query",
        "version",
        "headers",
        "host",
        "content_length",
        "chunked",
        "keep_alive",
        "expect_continue",
    )

    def __init__(
        self,
        method: str,
        target: str,
        path: str,
        query: str,
        version: str,
        headers: Headers,
        host: str,
        content_length: int | None,
        chunked: bool,
        keep_alive: bool,
        expect_continue: bool,
    ) -> None:
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.host = host
        self.content_length = content_length
        self.chunked = chunked
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue

    @property
    def has_body(self) -> bool:
        """True when a body follows the head (chunked, or a non-zero Content-Length)."""
        return self.chunked or bool(self.content_length)

    @property
    def request_line(self) -> str:
        """The request line rebuilt from its parts, without CRLF (RFC 9112 3): for logs and the trace."""
        return f"{self.method} {self.target} {self.version}"

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target} {self.version}>"


class Data:
    """A piece of the request body, already de-chunked."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Data) and other.data == self.data

    def __repr__(self) -> str:
        return f"Data({self.data!r})"


class EndOfMessage:
    """The request body is complete (trailer fields, if any, were checked and dropped)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EndOfMessage)

    def __repr__(self) -> str:
        return "EndOfMessage()"


class Signal(enum.Enum):
    """What ``next_event`` returns when it has no event to give."""

    NEED_DATA = "need data"  # feed more bytes with receive_data()
    PAUSED = "paused"  # a request is complete; the next one waits until its response is done
    PEER_CLOSED = "peer closed"  # the peer closed its side between requests


NEED_DATA = Signal.NEED_DATA
PAUSED = Signal.PAUSED
PEER_CLOSED = Signal.PEER_CLOSED

Event = Request | Data | EndOfMessage | Signal
