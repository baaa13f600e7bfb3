"""The WSGI gateway (PEP 3333): a reactor handler that runs a WSGI application.

Threaded (``threads`` >= 1, the default): the loop builds the environ and hands the call to a worker
thread; the application blocks there as WSGI applications do. Its response comes back to the loop
through ``call_soon_threadsafe``: the loop thread still owns every socket and every Exchange, worker
threads only post calls. Backpressure goes both ways: a worker that streams a body waits until its
previous piece has drained below the low-water mark (``Exchange.on_drain``), and ``wsgi.input`` holds
at most ~64 KiB before the request body is paused (``Exchange.pause_body``).

Inline (``threads`` == 0), for study: the application runs on the loop thread. ``wsgi.input`` cannot
block the loop, so the whole body (at most ``Limits.max_body``) is received before the application is
called; the response iterable is advanced one item per drain, and everything else on the server waits
while the application computes.
"""

from __future__ import annotations

import abc
import contextvars
import io
import logging
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, BinaryIO
from wsgiref.util import FileWrapper
from wsgiref.validate import IteratorWrapper

from handlers.threadpool import WorkerPool
from handlers.wsgi.body import RequestBody
from handlers.wsgi.environ import cgi_environ
from handlers.wsgi.response import ResponseHead, check_response
from reactor.exchange import Exchange

logger = logging.getLogger(__name__)

# wsgi.input's buffer: asyncio's water marks, as for the send queue.
BODY_HIGH_WATER = 64 * 1024
BODY_LOW_WATER = 16 * 1024

ExcInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApplication = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
FilePart = tuple[BinaryIO, int, int]  # file, offset, count


class WSGIGateway:
    """A handler that serves ``app`` (any WSGI application) on ``threads`` worker threads, or on the
    loop thread itself when ``threads`` is 0. ``close()`` stops the threads."""

    def __init__(self, app: WSGIApplication, threads: int = 4) -> None:
        if threads < 0:
            raise ValueError("threads must be zero or more")
        self.app = app
        self.threads = threads
        self._pool = WorkerPool(threads) if threads else None
        # The wsgi.* keys that are the same for every request (PEP 3333).
        self._wsgi_environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": threads > 1,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
        }

    def __repr__(self) -> str:
        return f"<WSGIGateway {self.app!r} threads={self.threads}>"

    def __call__(self, exchange: Exchange) -> None:
        if self._pool is None:
            InlineCall(self.app, exchange, self._wsgi_environ).start()
        else:
            ThreadedCall(self.app, exchange, self._wsgi_environ, self._pool).start()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


def _unwrap(result: Iterable[bytes]) -> object:
    """What the application returned, seen through wsgiref.validate's checking wrapper, which passes
    items through unchanged: so a validated application keeps sendfile and known lengths."""
    return result.original_iterator if isinstance(result, IteratorWrapper) else result


def _is_single(result: Iterable[bytes]) -> bool:
    """True when the result is a sequence of one item: its length is the body's (wsgiref does this)."""
    try:
        return len(_unwrap(result)) == 1  # type: ignore[arg-type]
    except TypeError:
        return False


class AppCall(abc.ABC):
    """One request through the application: its environ, ``start_response``, ``write``, the result's
    iteration, and the response's way back to the loop. Where the application runs is the strategy
    of a subclass (InlineCall, ThreadedCall), behind the abstract methods: ``start`` (loop: begin the
    call), ``_body_wake`` (how wsgi.input asks for the body), ``_post`` (hand a call to the loop),
    ``_piece_handed`` / ``_piece_queued`` (flow control of a body sent in pieces) and ``_release``
    (the connection is gone: the application's side stops at its next piece).

    Methods marked "loop" run on the loop thread; the others on the application's thread (the loop
    thread itself in inline mode).
    """

    def __init__(self, app: WSGIApplication, exchange: Exchange, wsgi_environ: dict[str, Any]) -> None:
        self._app = app
        self._exchange = exchange
        self._loop = exchange.loop
        request = exchange.request
        # Most requests have no body: an empty stream then, and no body to pause, wake or drain.
        self._body: RequestBody | None = None
        if request.has_body:
            self._body = RequestBody(self._body_wake(), BODY_HIGH_WATER, BODY_LOW_WATER)
        environ = cgi_environ(request, exchange.server_address, exchange.client_address)
        environ.update(wsgi_environ)
        environ["wsgi.input"] = self._body if self._body is not None else io.BytesIO()
        if request.chunked:
            # No CONTENT_LENGTH to bound the read: this extension (Werkzeug's server, gunicorn,
            # mod_wsgi) says wsgi.input itself ends with the body, which it does (see body.py).
            environ["wsgi.input_terminated"] = True
        self.environ = environ
        # Each request runs in a context of its own: context variables (Flask's request context) set
        # by one request never leak into another that shares the thread, nor between inline steps.
        self._context = contextvars.Context()
        # The response as the application's thread sees it.
        self._head: ResponseHead | None = None
        self._head_sent = False  # handed to the loop
        self._remaining: int | None = None  # of the declared Content-Length, bytes not yet handed over
        self._result: Iterable[bytes] | None = None
        self._iterator: Iterator[bytes] | None = None
        self._single = False
        self._gone = False  # the connection closed before the response ended
        self._broken = False  # loop: the exchange refused the response; ignore the rest
        exchange.on_abort(self._connection_lost)

    def __repr__(self) -> str:
        request = self._exchange.request
        return f"<{type(self).__name__} {request.method} {request.target}>"

    # -- the strategy -----------------------------------------------------------------------------

    @abc.abstractmethod
    def start(self) -> None:
        """Loop: begin the call."""

    @abc.abstractmethod
    def _body_wake(self) -> Callable[[], object] | None:
        """What wsgi.input calls when the application wants (more of) the body; None when the whole
        body is received before the application runs."""

    @abc.abstractmethod
    def _post(self, function: Callable[..., object], *args: Any) -> None:
        """Have the loop run ``function(*args)``."""

    @abc.abstractmethod
    def _piece_handed(self) -> None:
        """Before a piece of body that is not the last goes to the loop."""

    @abc.abstractmethod
    def _piece_queued(self) -> None:
        """Loop: a piece of body that is not the last was queued."""

    @abc.abstractmethod
    def _release(self) -> None:
        """Loop: no piece will drain any more; the application's side stops at its next piece."""

    def _connection_lost(self) -> None:
        """Loop: the connection closed before the response ended."""
        if self._body is not None:
            self._body.abort()
        self._release()

    # -- the application's side -------------------------------------------------------------------

    def _call_app(self) -> Iterable[bytes] | None:
        try:
            result = self._app(self.environ, self._start_response)
        except Exception:
            self._fail()
            return None
        self._result = result
        return result

    def _start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], None]:
        """PEP 3333's start_response. With ``exc_info`` it may replace headers not sent yet; once
        they are sent it re-raises the application's exception, which ends the connection."""
        if exc_info is not None:
            try:
                if self._head_sent and exc_info[1] is not None:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no cycle between this frame and the traceback
        elif self._head is not None:
            raise RuntimeError("start_response() was already called: pass exc_info to replace the headers")
        head = check_response(status, headers)
        self._head = head
        self._remaining = head.content_length
        return self._write

    def _write(self, data: bytes) -> None:
        """PEP 3333's write() callable, for applications that push their body. Blocks while the
        previous piece has not drained (threaded mode); queues without limit in inline mode."""
        if not isinstance(data, bytes):
            raise TypeError(f"write() takes bytes, not {type(data).__name__}")
        self._send(data, last=False)

    def _begin_iteration(self, result: Iterable[bytes]) -> None:
        self._single = _is_single(result)
        self._iterator = iter(result)

    def _send_next_item(self) -> bool:
        """Send the next item of the result; return False once the response is complete."""
        assert self._iterator is not None
        try:
            data = next(self._iterator)
        except StopIteration:
            self._send(b"", last=True)
            return False
        if not isinstance(data, bytes):
            raise TypeError(f"the application's iterable yielded {type(data).__name__}, not bytes")
        if data or self._single:  # PEP 3333: an empty item sends nothing, not even the headers
            self._send(data, last=self._single)
        return not self._single

    def _send_file(self, result: Iterable[bytes]) -> bool:
        """If the result is a wsgi.file_wrapper over a regular file, send the file with os.sendfile
        from its current position and return True; otherwise return False (it will be iterated)."""
        wrapper = _unwrap(result)
        if type(wrapper) is not FileWrapper or self._head is None:
            return False
        filelike = wrapper.filelike
        try:
            fd = filelike.fileno()
            offset = filelike.tell()
            info = os.fstat(fd)
        except (AttributeError, OSError, ValueError):
            return False
        if not stat.S_ISREG(info.st_mode):
            return False
        count = max(0, info.st_size - offset)
        if self._remaining is not None:
            count = min(count, self._remaining)
        # The send queue gets a descriptor of its own: the application closes its file in close(),
        # maybe long before the kernel has sent it all. os.sendfile takes an offset and leaves the
        # shared file position alone.
        try:
            file = os.fdopen(os.dup(fd), "rb", buffering=0)
        except OSError:
            return False  # out of descriptors: iterate the wrapper instead
        self._send(b"", last=True, file=(file, offset, count))
        return True

    def _send(self, data: bytes, *, last: bool, file: FilePart | None = None) -> None:
        """Hand a piece of the body (with the head, the first time) to the loop."""
        head = None
        if not self._head_sent:
            if self._head is None:
                if file is not None:
                    file[0].close()
                raise RuntimeError("the application sent its body before calling start_response()")
            head = self._framed_head(data, file, last)
            self._head_sent = True
        if self._remaining is not None:
            if len(data) > self._remaining:
                # As waitress and gunicorn do: send what was promised and say so.
                logger.warning("%r: the body is longer than its Content-Length; the rest is dropped", self)
                data = data[: self._remaining]
            self._remaining -= len(data)
        if last:
            self._post(self._deliver, head, data, file, True)
            return
        self._piece_handed()
        self._post(self._deliver, head, data, None, False)

    def _framed_head(self, data: bytes, file: FilePart | None, last: bool) -> ResponseHead:
        """The head as it goes out, its framing decided here once: the application's Content-Length;
        else, when the first piece is the whole body (and the method sends one), its length; else
        none, and the connection frames the body (chunked, or close-delimited for HTTP/1.0)."""
        assert self._head is not None
        head = self._head
        length = head.content_length
        if length is None and last and self._exchange.request.method != "HEAD":
            length = len(data) if file is None else file[2]
        return ResponseHead(head.status, head.headers, length)

    def _fail(self) -> None:
        """Called in an except block: the application (or its iterable) raised. Log it, then answer
        500 if nothing was sent yet, or close the connection so the client sees the truncation."""
        error = sys.exc_info()[1]
        if self._gone and isinstance(error, OSError):
            logger.debug("%r: the client went away: %s", self, error)
            return
        logger.error("%r: the WSGI application failed", self, exc_info=True)
        self._head_sent = True
        self._post(self._respond_failure)

    def _close_result(self) -> None:
        """PEP 3333: the result's close(), if any, is called once, whatever happened."""
        result, self._result = self._result, None
        close = getattr(result, "close", None)
        if close is None:
            return
        try:
            close()
        except Exception:
            logger.exception("%r: close() of the application's iterable failed", self)

    # -- the loop's side --------------------------------------------------------------------------

    def _deliver(self, head: ResponseHead | None, data: bytes, file: FilePart | None, last: bool) -> None:
        """Loop: queue the head, a piece of body or a file range; end the response after the last."""
        exchange = self._exchange
        if self._broken:
            if file is not None:
                file[0].close()
            return
        try:
            if head is not None and last and file is None and head.content_length == len(data):
                # The whole response at once, the usual small one: one call, one buffer, one send.
                exchange.respond(head.status, head.headers, data)
            else:
                if head is not None:
                    exchange.start_response(head.status, head.headers, head.content_length)
                if data:
                    exchange.write(data)
                if file is not None:
                    exchange.write_file(*file, owns_file=True)
        except Exception:
            # check_response and the length bookkeeping make this unreachable; stay safe regardless.
            logger.exception("%r: the response could not be queued", self)
            self._broken = True
            self._release()  # it stops at its next piece instead of waiting for a drain
            self._respond_failure()
            return
        if last:
            self._stop_reading_body()
            exchange.end()  # nothing left to do once respond has ended the response
        else:
            self._piece_queued()

    def _respond_failure(self) -> None:
        self._stop_reading_body()
        self._exchange.fail()

    def _stop_reading_body(self) -> None:
        """The application is done: whatever of the body it left is read and dropped (or the
        connection closes, as the connection decides)."""
        if self._body is not None:
            self._body.discard()
            self._exchange.resume_body()


class InlineCall(AppCall):
    """The application runs on the loop thread (``--threads 0``, for study). wsgi.input cannot block
    the loop, so the whole body is received first; the result is advanced one item per drain, and
    write() queues without limit."""

    def start(self) -> None:
        if self._body is not None:
            self._exchange.read_body(self._body.feed, self._body_complete)
        else:
            self._context.run(self._run)

    def _body_wake(self) -> None:
        return None

    def _post(self, function: Callable[..., object], *args: Any) -> None:
        function(*args)  # already on the loop

    def _piece_handed(self) -> None:
        pass  # write() queues without limit: nothing here may wait

    def _piece_queued(self) -> None:
        pass  # the iteration itself waits for the drain (_step_in_context)

    def _release(self) -> None:
        self._gone = True

    def _body_complete(self) -> None:
        assert self._body is not None
        self._body.end()
        self._context.run(self._run)

    def _run(self) -> None:
        result = self._call_app()
        if result is None:
            return
        try:
            sent = self._send_file(result)
            if not sent:
                self._begin_iteration(result)
        except Exception:
            self._fail()
            sent = True
        if sent:
            self._close_result()
        else:
            self._step_in_context()

    def _step(self) -> None:
        """Loop: the previous piece drained; send the next one."""
        if self._result is not None:
            self._context.run(self._step_in_context)

    def _step_in_context(self) -> None:
        try:
            more = self._send_next_item()
        except Exception:
            self._fail()
            more = False
        if more and not self._gone:
            self._exchange.on_drain(self._step)
        else:
            self._close_result()

    def _connection_lost(self) -> None:
        super()._connection_lost()
        # Not from here: this may run inside a step, in the request's context already.
        self._loop.call_soon(self._close_after_loss)

    def _close_after_loss(self) -> None:
        if self._result is not None:
            self._context.run(self._close_result)


class ThreadedCall(AppCall):
    """The application runs on a worker thread of ``pool`` and blocks there as WSGI applications do;
    the loop thread still owns the socket and the Exchange, the worker only posts calls to it. A body
    sent in pieces waits for each piece to drain below the low-water mark before the next."""

    def __init__(
        self, app: WSGIApplication, exchange: Exchange, wsgi_environ: dict[str, Any], pool: WorkerPool
    ) -> None:
        super().__init__(app, exchange, wsgi_environ)
        self._pool = pool
        self._cond = threading.Condition()
        self._in_flight = False  # a piece of body was posted and has not drained yet

    def start(self) -> None:
        if self._body is not None:
            self._exchange.pause_body()  # held back until the application reads it (then 100 Continue)
        self._pool.submit(self._run_in_thread)

    def _body_wake(self) -> Callable[[], object]:
        return self._post_wake

    def _post(self, function: Callable[..., object], *args: Any) -> None:
        self._loop.call_soon_threadsafe(function, *args)

    def _run_in_thread(self) -> None:
        """Worker thread: the whole request."""
        try:
            self._context.run(self._run)
        except BaseException:
            # SystemExit or KeyboardInterrupt raised by the application in a worker thread: it
            # cannot stop the process from here; answer as for any other failure.
            self._fail()

    def _run(self) -> None:
        if self._gone:
            return  # the client left while the request waited for a thread
        result = self._call_app()
        if result is None:
            return
        try:
            if not self._send_file(result):
                self._begin_iteration(result)
                while self._send_next_item():
                    pass
        except Exception:
            self._fail()
        finally:
            self._close_result()

    def _piece_handed(self) -> None:
        with self._cond:
            while self._in_flight and not self._gone:
                self._cond.wait()
            if self._gone:
                raise ConnectionAbortedError("the client closed the connection")
            self._in_flight = True

    def _piece_queued(self) -> None:
        self._exchange.on_drain(self._drained)

    def _drained(self) -> None:
        with self._cond:
            self._in_flight = False
            self._cond.notify_all()

    def _post_wake(self) -> None:
        self._loop.call_soon_threadsafe(self._deliver_body)

    def _deliver_body(self) -> None:
        """Loop: the application wants (more of) the body."""
        exchange = self._exchange
        body = self._body
        if exchange.aborted or exchange.finished or body is None:
            return
        body.delivering()
        if not exchange.reads_body:
            exchange.read_body(self._feed, body.end)
        exchange.resume_body()

    def _feed(self, data: bytes) -> None:
        assert self._body is not None  # read_body gets _feed only when there is a body
        if self._body.feed(data):
            self._exchange.pause_body()

    def _release(self) -> None:
        with self._cond:
            self._gone = True
            self._cond.notify_all()
