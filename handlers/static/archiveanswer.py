"""A directory's archive as the answer to ``?download=zip`` or ``?download=tar.gz`` on its URL (unless
``--no-archive``), streamed as it is made: archive.py makes the bytes, a piece at a time, on the
static handler's background threads (reading files and gzip stay off the loop).

Backpressure: a piece is written only once the one before it has drained below the low-water mark
(``Exchange.on_drain``), and the next is made while this one is sent. A client that reads slowly
holds the send queue and one piece, whatever the folder's size; one that stops reading stops the
making; one that leaves closes the files the archive had open. No temporary file, no archive in memory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator, Sequence
from functools import partial
from urllib.parse import quote

from handlers.background import BackgroundJobs
from handlers.static.archive import ArchiveError, Format, walk
from handlers.static.errorpages import ErrorAnswer, status_for
from handlers.static.paths import RequestPath
from reactor.exchange import Exchange

logger = logging.getLogger(__name__)


class ArchiveAnswer:
    """Answers with an archive of a directory, its tree walked with the listing's rules: names
    starting with "." only with ``show_hidden``, symlinks only where ``allowed`` (None: all)."""

    def __init__(
        self,
        jobs: BackgroundJobs,
        added_fields: Sequence[tuple[str, str]],
        *,
        show_hidden: bool,
        allowed: Callable[[str], bool] | None,
    ) -> None:
        self._jobs = jobs
        self._added_fields = added_fields
        self._show_hidden = show_hidden
        self._allowed = allowed

    def __call__(self, exchange: Exchange, path: RequestPath, real: str, kind: Format, errors: ErrorAnswer) -> None:
        """Answer with the directory at ``real``, named by ``path``, as an archive of ``kind`` whose
        top folder has the directory's name; through ``errors`` if the directory cannot be read."""
        top = path.segments[-1] if path.segments else os.path.basename(real) or "files"
        fields = [
            ("Content-Type", kind.content_type),
            ("Content-Disposition", _attachment(top + kind.suffix)),
            *self._added_fields,
        ]
        if exchange.request.method == "HEAD":
            exchange.start_response(200, fields)  # what GET would send, without making the archive
            exchange.end()
            return
        members = walk(real, top, show_hidden=self._show_hidden, allowed=self._allowed)
        _Download(exchange, kind.stream(members), self._jobs, fields, errors).start()


class _Download:
    """One archive on its way to one client: each piece made on a background thread, sent on the loop."""

    def __init__(
        self,
        exchange: Exchange,
        pieces: Generator[bytes, None, None],
        jobs: BackgroundJobs,
        fields: list[tuple[str, str]],
        errors: ErrorAnswer,
    ) -> None:
        self._exchange = exchange
        self._pieces = pieces
        self._jobs = jobs
        self._fields = fields
        self._errors = errors
        self._making = False  # a piece is being made on a background thread, which has the generator

    def start(self) -> None:
        self._exchange.on_abort(self._aborted)
        self._make()

    def _make(self) -> None:
        self._making = True
        self._jobs.run(self._exchange.loop, partial(next, self._pieces, None), self._made)

    def _made(self, piece: bytes | None, error: Exception | None) -> None:
        """On the loop: the next piece (None at the end) is made, or making it failed."""
        self._making = False
        exchange = self._exchange
        if exchange.aborted:
            self._pieces.close()
        elif error is not None:
            self._failed(error)
        else:
            exchange.on_drain(partial(self._send, piece))  # once the piece before it has drained

    def _send(self, piece: bytes | None) -> None:
        exchange = self._exchange
        if exchange.aborted:
            self._pieces.close()
            return
        if not exchange.response_started:
            exchange.start_response(200, self._fields)  # no length: chunked, or to the close for HTTP/1.0
        if piece is None:
            exchange.end()
            return
        exchange.write(piece)
        self._make()  # while this piece is sent

    def _failed(self, error: Exception) -> None:
        self._pieces.close()
        exchange = self._exchange
        if not isinstance(error, (OSError, ArchiveError)):
            logger.error("%r: making the archive failed", exchange, exc_info=error)
        if not exchange.response_started:
            status, detail = status_for(error) if isinstance(error, OSError) else (500, "cannot make the archive")
            self._errors(exchange, status, detail)
            return
        # The client must not take what it has for a whole archive: cut the connection, so the
        # chunked body has no last chunk (an HTTP/1.0 body ends with the connection either way, and
        # there the archive's own end is missing: zip's central directory, gzip's trailer).
        logger.warning("%r: archive cut short: %s", exchange, error)
        exchange.abort()

    def _aborted(self) -> None:
        """The client left. The files the archive has open are closed now, or by the thread's piece."""
        if not self._making:
            self._pieces.close()


def _attachment(filename: str) -> str:
    """A Content-Disposition that saves the download as ``filename`` (RFC 6266): its UTF-8 bytes
    in ``filename*`` (RFC 8187), and an ASCII stand-in for clients that know only ``filename``."""
    fallback = "".join(char if " " <= char <= "~" and char not in '"\\' else "_" for char in filename)
    encoded = quote(filename.encode("utf-8", "surrogateescape"), safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
