"""reactor: an HTTP/1.1 server on a hand-written, single-threaded selectors event loop."""

from reactor.connection import HTTPConnection
from reactor.exchange import Exchange, Handler
from reactor.iostate import IOState
from reactor.limits import Limits
from reactor.listener import Listener, bind
from reactor.loop import EventLoop, LoopStatistics
from reactor.server import Server, ServerStatistics
from reactor.transport import Protocol, Transport

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
