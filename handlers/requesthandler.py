"""``http.server``'s request-handler API on the reactor, so seed programs run unchanged but for the
import::

    from handlers.requesthandler import BaseHTTPRequestHandler, HTTPServer

    class CustomHTTPRequestHandler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-type", "text/html")
            self.end_headers()
            self.wfile.write(b"hello world")

    HTTPServer(("127.0.0.1", 8000), CustomHTTPRequestHandler).serve_forever()

The class derives from the standard library's own ``BaseHTTPRequestHandler``: logging, ``send_error``,
``responses``, ``version_string`` and the rest are the stdlib's. What differs, and why:

- ``do_*`` methods run on the loop thread, one request at a time for the whole server: they must not
  block (no ``time.sleep``, no slow I/O), or every connection waits.
- ``rfile`` is the request body, received in full before ``do_*`` is called (at most
  ``Limits.max_body``; more is answered 413). Reading it never blocks; past its end it returns b"".
- ``wfile.write`` never blocks either: it queues. Without a Content-Length header the response is
  held until ``do_*`` returns, then sent with its length (so keep-alive works); with one, writes go
  out as they are made.
- The status line, ``Date``, ``Server``, ``Content-Length`` framing and ``Transfer-Encoding`` are the
  server's: the reason phrase passed to ``send_response`` is not sent (RFC 9112 4: clients ignore
  it), ``Date``/``Server`` headers are written once by the server, and setting ``Transfer-Encoding``
  is an error. Every 1.x client gets HTTP/1.1 with keep-alive, whatever ``protocol_version`` says.
- There is no socket: ``self.connection`` and ``self.request`` (the stdlib's socket) are absent;
  ``self.exchange`` is the reactor's view of the request. ``handle``, ``setup``, ``finish`` and
  ``parse_request`` are not called: the reactor's parser has already read and checked the request.
- ``headers`` is an ``http.client.HTTPMessage``, as in the stdlib, but field names are lower-case.
"""

from __future__ import annotations

import functools
import http.client
import http.server
import io
import logging
import signal
import threading
from typing import Any

from reactor.exchange import Exchange
from reactor.http.writer import SERVER_OWNED_FIELDS
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.listener import bind
from reactor.server import Server

logger = logging.getLogger(__name__)


class ResponseBody(io.BufferedIOBase):
    """``wfile``: writes become the response body, queued on the connection; they never block."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        super().__init__()
        self._handler = handler

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        """Queue ``data`` (bytes-like). Raises RuntimeError before end_headers()."""
        data = bytes(data)
        self._handler.queue_body(data)
        return len(data)


class BaseHTTPRequestHandler(http.server.BaseHTTPRequestHandler):
    """Subclass it and define ``do_GET``, ``do_POST``, ``do_HEAD``... as for the standard library.

    An instance handles one request: ``HandlerClassAdapter`` creates it once the body is in, sets
    ``rfile`` and calls ``handle_one_request``, then finishes the response.
    """

    server_version = "reactor"
    protocol_version = "HTTP/1.1"

    def __init__(self, request: Exchange, client_address: tuple[str, int], server: Any) -> None:
        # Not the stdlib's __init__: it would read the request from a socket and handle it now.
        self.exchange = request
        self.client_address = client_address
        self.server = server
        head = request.request
        self.command = head.method
        self.path = head.target
        self.request_version = head.version
        self.requestline = head.request_line
        self.raw_requestline = (self.requestline + "\r\n").encode("latin-1")
        self.headers = http.client.HTTPMessage()
        for name, value in head.headers:
            self.headers[name] = value
        self.close_connection = False
        self.rfile = io.BytesIO()
        self.wfile = ResponseBody(self)
        self._status: int | None = None
        self._response_headers: list[tuple[str, str]] = []
        self._content_length: int | None = None
        self._headers_ended = False
        self._held: list[bytes] | None = []  # body held until do_* returns; None once streaming

    def handle_one_request(self) -> None:
        """Call ``do_<METHOD>``, or answer 501 as the stdlib does when there is none."""
        method = getattr(self, "do_" + self.command, None)
        if method is None:
            self.send_error(501, f"Unsupported method ({self.command!r})")
            return
        method()

    # -- the stdlib's header calls, recorded instead of written ---------------------------------------

    def send_response_only(self, code: int, message: str | None = None) -> None:
        self._status = code

    def send_header(self, keyword: str, value: str) -> None:
        name = keyword.lower()
        if name == "content-length":
            self._content_length = int(value)
        elif name == "connection":
            if value.lower() == "close":
                self.close_connection = True
            elif value.lower() == "keep-alive":
                self.close_connection = False
        elif name == "transfer-encoding":
            raise ValueError("Transfer-Encoding is the server's: write the body, it frames it")
        elif name not in SERVER_OWNED_FIELDS:
            self._response_headers.append((keyword, str(value)))

    def end_headers(self) -> None:
        """With a Content-Length, the response starts now and writes stream out; otherwise it is
        held until do_* returns."""
        if self._status is None:
            raise RuntimeError("end_headers() before send_response()")
        self._headers_ended = True
        if self._content_length is not None and self._held is not None:
            self._start(self._content_length)
            for data in self._held:
                self.exchange.write(data)
            self._held = None

    def flush_headers(self) -> None:
        """Nothing to flush: the connection sends what is queued as the socket takes it."""

    # -- the response ----------------------------------------------------------------------------------

    def queue_body(self, data: bytes) -> None:
        """What ``wfile.write`` does. Raises RuntimeError before end_headers()."""
        if not self._headers_ended:
            raise RuntimeError("wfile.write() before end_headers(): call send_response() and end_headers() first")
        if self._held is None:
            self.exchange.write(data)
        else:
            self._held.append(data)

    def finish_response(self) -> None:
        """After do_*: send what was held, with its length, and end the response."""
        exchange = self.exchange
        if self._held is None:
            exchange.end()
            return
        if self._status is None:
            logger.error("%s sent no response to %r", type(self).__name__, self.requestline)
            exchange.respond_error(500, "the handler sent no response")
            return
        body = b"".join(self._held)
        self._held = None
        if not body and self.command == "HEAD":
            # RFC 9110 8.6, 9.3.2: a HEAD response may only carry GET's Content-Length, and a do_HEAD
            # that writes nothing does not say what that is: send none (unless the handler set one).
            self._start(self._content_length)
            exchange.end()
            return
        exchange.respond(self._status, self._response_headers, body, close=self.close_connection)

    def _start(self, content_length: int | None) -> None:
        assert self._status is not None
        self.exchange.start_response(self._status, self._response_headers, content_length, close=self.close_connection)


class HandlerClassAdapter:
    """A reactor handler that serves each request with a new ``handler_class`` instance, once the
    request body is in."""

    def __init__(self, handler_class: type[BaseHTTPRequestHandler], server: Any = None) -> None:
        self.handler_class = handler_class
        self.server = server

    def __repr__(self) -> str:
        return f"<HandlerClassAdapter {self.handler_class.__name__}>"

    def __call__(self, exchange: Exchange) -> None:
        if not exchange.request.has_body:
            self._run(exchange, [])
            return
        parts: list[bytes] = []
        exchange.read_body(parts.append, functools.partial(self._run, exchange, parts))

    def _run(self, exchange: Exchange, parts: list[bytes]) -> None:
        try:
            handler = self.handler_class(exchange, exchange.client_address, self.server)
            handler.rfile = io.BytesIO(b"".join(parts))
            handler.handle_one_request()
            handler.finish_response()
        except Exception:
            logger.exception("%s failed on %r", self.handler_class.__name__, exchange.request)
            exchange.fail()


class HTTPServer:
    """``http.server.HTTPServer``'s shape: ``HTTPServer((host, port), HandlerClass)``, then
    ``serve_forever()``; ``shutdown()`` from another thread, ``server_close()`` or ``with``. The host
    "" means every address (IPv4 and IPv6, where the stdlib takes IPv4 only)."""

    def __init__(self, server_address: tuple[str, int], RequestHandlerClass: type[BaseHTTPRequestHandler]) -> None:
        host, port = server_address
        limits = Limits()
        self.socket = bind(host or None, port, limits.listen_backlog)
        name = self.socket.getsockname()
        self.server_address = (name[0], name[1])
        self.RequestHandlerClass = RequestHandlerClass
        self.loop = EventLoop()
        self._server = Server(self.loop, [self.socket], HandlerClassAdapter(RequestHandlerClass, self), limits)
        self._server.start()  # connections are accepted once serve_forever runs the loop
        self._stopped = threading.Event()
        self._stopped.set()
        self._interrupted = False

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until shutdown(), or until Ctrl-C, which raises KeyboardInterrupt as in the stdlib
        but only once the loop has stopped between two callbacks: raised in the middle of one, it
        could leave a connection half updated. ``poll_interval`` is accepted for the stdlib's
        signature and ignored: the loop sleeps in select until there is work, it never polls."""
        self._stopped.clear()
        self._interrupted = False
        in_main_thread = threading.current_thread() is threading.main_thread()
        if in_main_thread:
            self.loop.add_signal_handler(signal.SIGINT, self._interrupt)
        try:
            self.loop.run_forever()
        finally:
            if in_main_thread:
                self.loop.remove_signal_handler(signal.SIGINT)
            self._stopped.set()
        if self._interrupted:
            raise KeyboardInterrupt

    def _interrupt(self) -> None:
        self._interrupted = True
        self.loop.stop()

    def shutdown(self) -> None:
        """Stop serve_forever (called from another thread) and wait until it has returned."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._stopped.wait()

    def server_close(self) -> None:
        self._server.close()
        self.loop.close()

    def __enter__(self) -> HTTPServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server_close()
