"""reactor: an HTTP/1.1 server on a hand-written, single-threaded selectors event loop."""

from reactor.connection import HTTPConnection, IOState
from reactor.exchange import Exchange, Handler
from reactor.limits import Limits
from reactor.listener import Listener, bind
from reactor.loop import EventLoop, LoopStatistics
from reactor.server import Server, ServerStatistics

__all__ = [
    "EventLoop",
    "Exchange",
    "HTTPConnection",
    "Handler",
    "IOState",
    "Limits",
    "Listener",
    "LoopStatistics",
    "Server",
    "ServerStatistics",
    "bind",
]

__version__ = "0.1.0"
