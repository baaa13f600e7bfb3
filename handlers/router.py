"""Sending each request to the handler mounted at its path prefix: static files beside a WSGI app."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable

from reactor.exchange import Exchange, Handler

# Segments of characters that never need percent-encoding in a path (RFC 3986 3.3 pchar), so the
# prefix reads the same on the wire as it does here.
_PREFIX = re.compile(r"(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@]+)+", re.ASCII)


def normalize_prefix(prefix: str) -> str:
    """``prefix`` without its trailing slashes. Raises ValueError unless it is a path below the root
    made of characters that need no percent-encoding, with no "." or ".." segment."""
    stripped = prefix.rstrip("/")
    if _PREFIX.fullmatch(stripped) is None or any(segment in (".", "..") for segment in stripped.split("/")):
        raise ValueError(f"invalid prefix {prefix!r}: want a path such as /static")
    return stripped


class PrefixRouter:
    """Calls the handler of the longest prefix that ``request.path`` falls under ("/static" takes
    "/static" and "/static/..." but not "/staticfiles"), or ``default``.

    The match is on the path as it arrived, percent-encoding and all; the handler sees the whole path
    (a StaticFiles handler is told its mount point and checks it again after normalising the path).
    """

    def __init__(self, routes: Iterable[tuple[str, Handler]], default: Handler) -> None:
        # By prefix alone (handlers do not compare); the sort is stable, so of equal prefixes the first wins.
        self._routes = sorted(
            ((normalize_prefix(prefix), handler) for prefix, handler in routes),
            key=operator.itemgetter(0),
            reverse=True,
        )
        self._default = default

    def __repr__(self) -> str:
        return f"<PrefixRouter {[prefix for prefix, _ in self._routes]} default={self._default!r}>"

    def __call__(self, exchange: Exchange) -> None:
        path = exchange.request.path
        for prefix, handler in self._routes:
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                handler(exchange)
                return
        self._default(exchange)
