"""reactor: an HTTP/1.1 server on a hand-written, single-threaded selectors event loop.

The folders follow the layers of docs/architecture.md: ``loop/`` (the selector loop and its timers),
``net/`` (a socket's transport, its I/O states, TLS, accepting and connecting), ``http/`` (HTTP/1.1
without I/O: bytes in, events out), and at the top the HTTP connection, the exchange a handler answers
through, and the server. ``trace/`` is ``--trace`` and its tools.

The names below are imported on first use (PEP 562), so importing one module (``reactor.loop.clock``,
say) loads only what that module needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reactor.exchange import Exchange, Handler
    from reactor.httpconnection import HTTPConnection
    from reactor.limits import Limits
    from reactor.loop.eventloop import EventLoop, LoopStatistics
    from reactor.net.iostate import IOState
    from reactor.net.listener import Listener, bind
    from reactor.net.transport import Protocol, Transport
    from reactor.server import Server, ServerStatistics

_HOMES = {
    "EventLoop": "reactor.loop.eventloop",
    "Exchange": "reactor.exchange",
    "HTTPConnection": "reactor.httpconnection",
    "Handler": "reactor.exchange",
    "IOState": "reactor.net.iostate",
    "Limits": "reactor.limits",
    "Listener": "reactor.net.listener",
    "LoopStatistics": "reactor.loop.eventloop",
    "Protocol": "reactor.net.transport",
    "Server": "reactor.server",
    "ServerStatistics": "reactor.server",
    "Transport": "reactor.net.transport",
    "bind": "reactor.net.listener",
}

__all__ = [
    "EventLoop",
    "Exchange",
    "HTTPConnection",
    "Handler",
    "IOState",
    "Limits",
    "Listener",
    "LoopStatistics",
    "Protocol",
    "Server",
    "ServerStatistics",
    "Transport",
    "bind",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'reactor' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next access is a plain attribute
    return value
