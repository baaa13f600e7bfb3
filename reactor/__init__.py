"""reactor: an HTTP/1.1 server on a hand-written, single-threaded selectors event loop."""

from reactor.exchange import Exchange, Handler
from reactor.httpconnection import HTTPConnection
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop, LoopStatistics
from reactor.net.iostate import IOState
from reactor.net.listener import Listener, bind
from reactor.net.transport import Protocol, Transport
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
    "Protocol",
    "Server",
    "ServerStatistics",
    "Transport",
    "bind",
]

__version__ = "0.1.0"
