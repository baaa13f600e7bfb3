"""``wsgi.input``: the request body as a blocking stream for the application's thread.

The loop feeds the stream (``feed``, ``end``); the application reads it (``read``, ``readline``,
``readlines``, iteration), blocking until bytes arrive. At most about ``high_water`` bytes wait here:
past it ``feed`` answers True and the gateway pauses the body, so the connection stops reading and the
client slows down; once the reader has taken the buffer down to ``low_water`` it calls ``wake`` (from
its own thread) so the gateway resumes the body on the loop. ``wake`` is also how the first read asks
for a body nobody has started to receive yet, which is when a client that sent ``Expect:
100-continue`` is invited to send it (PEP 3333, "HTTP 1.1 Expect/Continue", second option).

The framing (Content-Length or chunked, ``max_body``) was already enforced by the parser: the stream
ends exactly where the body does, which the gateway tells chunked requests' applications with
``wsgi.input_terminated``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator


class RequestBody:
    """A bounded, thread-safe byte stream between the loop (writer) and one reader thread.

    ``wake`` is None when the whole body is fed before the application runs (inline mode, or a
    request without a body). Reads raise ConnectionAbortedError once ``abort`` was called.
    """

    def __init__(self, wake: Callable[[], object] | None, high_water: int, low_water: int) -> None:
        self._wake = wake
        self._high_water = high_water
        self._low_water = low_water
        self._cond = threading.Condition()
        self._buffer = bytearray()
        self._ended = False
        self._aborted = False
        self._discarding = False
        self._requested = wake is None  # the loop was asked to deliver the body
        self._paused = False  # the loop stopped delivering: the buffer passed high water
        self._wake_pending = False

    # -- the loop's side --------------------------------------------------------------------------

    def feed(self, data: bytes) -> bool:
        """Add a piece of the body; return True when the buffer is full and delivery must pause."""
        with self._cond:
            if self._discarding:
                return False
            self._buffer += data
            self._cond.notify_all()
            if self._wake is not None and len(self._buffer) >= self._high_water:
                self._paused = True
                return True
            return False

    def end(self) -> None:
        """The body is complete."""
        with self._cond:
            self._ended = True
            self._wake = None  # no more wakes: and no cycle through the gateway's bound method
            self._cond.notify_all()

    def delivering(self) -> None:
        """The loop answers a wake: the body is being delivered again."""
        with self._cond:
            self._requested = True
            self._paused = False
            self._wake_pending = False

    def abort(self) -> None:
        """The client is gone: blocked and future reads raise ConnectionAbortedError."""
        with self._cond:
            self._aborted = True
            self._wake = None
            self._cond.notify_all()

    def discard(self) -> None:
        """The application is done: drop what is buffered and whatever still arrives; a late read
        sees the end of the body."""
        with self._cond:
            self._discarding = True
            self._ended = True
            self._wake = None
            self._buffer.clear()
            self._cond.notify_all()

    # -- the application's side -------------------------------------------------------------------

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when ``size`` is negative or None); fewer only at
        the end of the body. Blocks until then."""
        parts = []
        with self._cond:
            while size is None or size < 0 or size > 0:
                if not self._wait_for_data():
                    break
                count = len(self._buffer) if size is None or size < 0 else min(size, len(self._buffer))
                parts.append(self._take(count))
                if size is not None and size > 0:
                    size -= count
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        """One line, its b"\\n" included, of at most ``size`` bytes when ``size`` is positive."""
        parts = []
        with self._cond:
            while size is None or size < 0 or size > 0:
                if not self._wait_for_data():
                    break
                limit = len(self._buffer) if size is None or size < 0 else min(size, len(self._buffer))
                newline = self._buffer.find(b"\n", 0, limit)
                count = limit if newline < 0 else newline + 1
                parts.append(self._take(count))
                if newline >= 0:
                    break
                if size is not None and size > 0:
                    size -= count
        return b"".join(parts)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Lines until the end of the body, or until their total size reaches ``hint`` if positive."""
        lines = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _wait_for_data(self) -> bool:
        """With the lock held: block until bytes are buffered (True) or the body has ended (False).
        Raises ConnectionAbortedError when the client is gone."""
        while True:
            if self._aborted:
                raise ConnectionAbortedError("the client closed the connection before its body ended")
            if self._buffer:
                return True
            if self._ended:
                return False
            self._maybe_wake()
            self._cond.wait()

    def _take(self, count: int) -> bytes:
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        self._maybe_wake()
        return data

    def _maybe_wake(self) -> None:
        """Ask the loop for more when the body was never requested or was paused and the buffer has
        drained to the low-water mark. One wake at a time: ``delivering`` clears it."""
        if self._wake is None or self._wake_pending or self._ended:
            return
        if not self._requested or (self._paused and len(self._buffer) <= self._low_water):
            self._wake_pending = True
            self._wake()
