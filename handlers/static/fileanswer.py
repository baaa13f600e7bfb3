"""The full answer for one file that the static handler located: open it, pick a precompressed sibling
the request accepts (else, with ``--compress``, the gzip-coded body handlers.static.compression made of a
small text file), set its validators and Vary, decide the status (files.decide), then answer a small
file's 200 from the file cache (keeping it there) or send the file (files.send)."""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from typing import BinaryIO

from handlers.livereload.inject import MAX_INJECTED, inject
from handlers.static import files
from handlers.static.compression import MIN_SIZE, Compressions, compressible
from handlers.static.conditional import evaluate, http_date, make_etag
from handlers.static.errorpages import ErrorAnswer, status_for
from handlers.static.filecache import CACHED_FILE_LIMIT, FileCache
from handlers.static.mimetypes import MimeTypes
from handlers.static.negotiation import SUFFIXES, preferred_codings
from handlers.static.paths import PathError, RequestPath
from handlers.static.site import Site
from reactor.exchange import Exchange
from reactor.http.events import Request

# Vary is on every response of every file, sibling or not: learning whether a sibling exists would cost
# lookups on requests that do not ask for one, and saying that the response depends on
# Accept-Encoding is true of any file here (RFC 9110 12.5.5).
VARY = "Accept-Encoding"


class FileAnswer:
    """Answers GET and HEAD with a file: 200, 206, 304, or an error through the caller's ``errors``.

    ``fields`` (Cache-Control, CORS) go on every answer, 304s included. With ``compressions``, a
    compressible file no larger than the file cache takes is answered gzip-coded once that is made.
    With ``live_reload``, an HTML file is answered as its variant with the live-reload script.
    """

    def __init__(
        self,
        cache: FileCache,
        site: Site,
        mime_types: MimeTypes,
        fields: Sequence[tuple[str, str]],
        *,
        compressions: Compressions | None = None,
        live_reload: bool = False,
    ) -> None:
        self._compressions = compressions
        self._live_reload = live_reload
        self._cache = cache
        self._site = site
        self._mime_types = mime_types
        self._fields = fields

    def __call__(
        self,
        exchange: Exchange,
        requested: str,
        real: str,
        errors: ErrorAnswer,
        *,
        path: RequestPath | None = None,
        vary: str = VARY,
    ) -> None:
        """Answer with the file at ``real``, typed by the ``requested`` name, or with a precompressed
        sibling of it when the request accepts one. ``path``: the parsed request path, given when a
        small file's answer may be kept in the cache. ``vary``: the answer's Vary, 304s and 412s
        and 416s included (an answer chosen by Accept too says so)."""
        request = exchange.request
        try:
            # Without --follow-symlinks, ``real`` was resolved and checked: none of it is a symlink, so
            # one that appears now (swapped in after the check) is refused, not followed.
            opened = files.open_regular(real, follow=self._site.follow_symlinks)
        except OSError as error:
            errors(exchange, *status_for(error))
            return
        if opened is None:
            errors(exchange, 404, "not a regular file")
            return
        file, info = opened
        coding = ""
        content_type = self._mime_types(requested)
        # gzip on the fly may apply to this file (whether this request accepts it or not).
        compress = (
            self._compressions is not None
            and MIN_SIZE <= info.st_size <= CACHED_FILE_LIMIT
            and compressible(content_type)
        )
        coded: bytes | None = None  # a body made in memory: gzip-coded, or HTML with the live-reload script
        # --live-reload: an HTML file's answer is its injected variant (handlers/livereload/inject.py), never coded
        # (a sibling or gzip would lack the script) and never kept in the cache (which holds files as they are).
        injected = self._live_reload and content_type.startswith("text/html") and info.st_size <= MAX_INJECTED
        accept_encoding = request.headers.get_all("accept-encoding")
        if accept_encoding and not injected:  # no Accept-Encoding, no sibling lookups: the common case pays nothing
            accepted = ", ".join(accept_encoding)
            sibling = self._sibling(real, info, accepted)
            if sibling is not None:
                file.close()
                file, info, coding = sibling
            elif compress and "gzip" in preferred_codings(accepted):
                assert self._compressions is not None
                coded = self._compressions.coded(exchange.loop, real, info)
                if coded == b"":
                    compress = False  # it does not shrink: always the file itself
                elif coded is not None and not _holds_identity(request, info):
                    coding = "gzip"
                else:
                    coded = None
        # A coded body's tag is the file's, suffixed as a sibling's is: distinct, and stable per version.
        etag = make_etag(info, coding)
        if injected:
            coded, etag = inject(os.pread(file.fileno(), info.st_size, 0), etag)
            path = None
        modified = int(info.st_mtime)
        length = len(coded) if coded else info.st_size
        # RFC 9110 15.4.5: a 304 carries the validators, Vary and Cache-Control a 200 would, no content metadata.
        validators = [("Last-Modified", http_date(modified)), ("ETag", etag), ("Vary", vary), *self._fields]
        status, ranges = files.decide(request, etag, modified, length)
        if status in (200, 206):
            body: BinaryIO | bytes = file
            headers = [("Accept-Ranges", "bytes"), *validators]
            if coded:
                file.close()
                body = coded
            if status == 200 and (coded or not coding) and path is not None:
                kept_headers = [("Content-Encoding", coding), *headers] if coded else headers
                cached = self._cache.maybe_keep(
                    request.path,
                    path,
                    requested,
                    real,
                    body,
                    info,
                    etag,
                    content_type,
                    kept_headers,
                    validators,
                    compressible=compress,
                )
                if cached is not None:
                    file.close()
                    exchange.respond_prepared(cached.ok)
                    return
            files.send(exchange, body, length, ranges, content_type, coding, headers)
            return
        file.close()
        if status == 304:
            exchange.respond(304, validators)
        elif status == 416:
            # RFC 9110 15.5.17: the length, so the client can ask again.
            unsatisfied = [("Content-Range", f"bytes */{length}"), ("Vary", vary)]
            errors(exchange, 416, "no requested range lies within the file", unsatisfied)
        else:
            # A 412 too came from the selected representation's validators (RFC 9110 12.5.5).
            errors(exchange, status, "a precondition failed", [("Vary", vary)])

    def _sibling(
        self, real: str, original: os.stat_result, accept_encoding: str
    ) -> tuple[BinaryIO, os.stat_result, str] | None:
        """The best precompressed sibling (``file.br``, ``file.gz``) the request accepts that is a
        regular file no older than the original, opened, with its stat and coding; or None.

        It sits next to the resolved file, in a directory already inside the root, so only the sibling
        itself can be a symlink: it is opened without following one, and one found is held to the same
        containment rule as any file (the CVE-2024-42367 class).
        """
        for coding in preferred_codings(accept_encoding):
            candidate = real + SUFFIXES[coding]
            try:
                try:
                    opened = files.open_regular(candidate, follow=self._site.follow_symlinks)
                except OSError as error:
                    if error.errno != errno.ELOOP:
                        raise
                    opened = files.open_regular(self._site.resolve(candidate))
            except (OSError, PathError):
                continue
            if opened is None:
                continue
            file, info = opened
            if info.st_mtime_ns < original.st_mtime_ns:
                file.close()  # stale: the original changed after it was compressed
                continue
            return file, info, coding
        return None


def _holds_identity(request: Request, info: os.stat_result) -> bool:
    """Whether the request names the file itself by its ETag: a client that cached it (or began a
    ranged download of it) before its gzip-coded form was made revalidates to a 304, or resumes with
    the ranges of what it holds, rather than fetching the same content again coded (nginx's weak gzip
    ETags reach the same). Either representation is an acceptable answer."""
    etag = make_etag(info)
    if_range = request.headers.get_all("if-range")
    if len(if_range) == 1 and if_range[0].strip(" \t") == etag:
        return True
    return bool(request.headers.get_all("if-none-match")) and (
        evaluate(request.headers, request.method, etag, int(info.st_mtime)) == 304
    )
