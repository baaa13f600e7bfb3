"""Serving the files under one directory, as nginx and Caddy do: this module finds what a request
names and decides who answers; files.py answers for a file, listing.py for a directory.

Nothing outside the root is readable: request paths are resolved by handlers.paths (no "..", no
encoded separators, no NUL), names starting with "." are private, and unless ``follow_symlinks`` the
real path of anything served (symlinks followed: a file, an index, a precompressed sibling, a listed
entry) must lie inside the root.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from typing import BinaryIO

from handlers import cors, files, listing
from handlers.conditional import http_date, make_etag
from handlers.mimetypes import MimeTypes
from handlers.negotiation import SUFFIXES, asks_for_html, preferred_codings, prefers_json
from handlers.options import StaticOptions
from handlers.paths import PathError, RequestPath, parse_request_path
from reactor.exchange import Exchange, HeaderList

# RFC 9110 9.3 methods plus PATCH: we know them and do not allow them here (405); anything else is
# a method we do not implement at all (501, RFC 9110 15.6.2).
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
_GET_OR_HEAD = ("GET", "HEAD")
_INDEX_FILES = ("index.html", "index.htm")
_HTML = "text/html; charset=utf-8"
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC


class StaticFiles:
    """A handler that serves GET and HEAD for the files under ``root``, shaped by ``options``.

    Raises ValueError when an error page or the single-page-app entry is not a file under the root.
    """

    def __init__(self, root: str, options: StaticOptions | None = None) -> None:
        self.root = os.path.realpath(root)
        self._root_prefix = self.root.rstrip(os.sep) + os.sep
        self.options = options = options if options is not None else StaticOptions()
        self._mime_types = MimeTypes(dict(options.mime_types))
        self._cors = list(cors.RESPONSE_HEADERS) if options.cors else []
        self._allow = cors.METHODS if options.cors else "GET, HEAD"
        self._cache = [("Cache-Control", options.cache_control)] if options.cache_control else []
        self._error_pages = {
            status: self._configured_file(path, f"error page for {status}")
            for status, path in options.error_pages.items()
        }
        self._spa = self._configured_file(options.spa, "single-page app entry") if options.spa else None

    def _configured_file(self, url_path: str, what: str) -> str:
        """The path under the root of a file named on the command line, checked now so a typo fails at
        start rather than on the first error. Hidden names are allowed: the user chose this one."""
        try:
            path = parse_request_path(url_path)
            candidate = os.path.join(self.root, *path.segments)
            if os.path.isfile(self._resolve(candidate)) and not path.trailing_slash:
                return candidate
        except PathError:
            pass
        raise ValueError(f"{what}: {url_path!r} is not a file in {self.root}")

    # -- finding what the request names -----------------------------------------------------------

    def __call__(self, exchange: Exchange) -> None:
        request = exchange.request
        if request.method not in _GET_OR_HEAD:
            self._other_method(exchange)
            return
        try:
            path = parse_request_path(request.path)
            if not self.options.show_hidden and _hidden(path.segments):
                raise PathError(404, "not found")  # as if absent: its existence is private too
            requested = os.path.join(self.root, *path.segments)
            real = self._resolve(requested)
            info = os.stat(real)
        except PathError as error:
            self._error(exchange, error.status, error.reason)
            return
        except OSError as error:
            self._error(exchange, *_status_for(error))
            return
        if stat.S_ISDIR(info.st_mode):
            self._serve_directory(exchange, path, requested, real)
        elif path.trailing_slash:
            self._error(exchange, 404, "not a directory")  # /file.txt/ names no directory
        else:
            self._serve_file(exchange, requested, real)

    def _resolve(self, path: str) -> str:
        """``path`` with symlinks resolved. Raises PathError(403) if that leaves the root, unless
        symlinks may lead anywhere (then ``path`` itself is returned: the kernel follows them)."""
        if self.options.follow_symlinks:
            return path
        real = os.path.realpath(path)
        if real != self.root and not real.startswith(self._root_prefix):
            raise PathError(403, "the path leads outside the served directory")
        return real

    def _may_serve(self, path: str) -> bool:
        try:
            self._resolve(path)
        except PathError:
            return False
        return True

    def _other_method(self, exchange: Exchange) -> None:
        request = exchange.request
        if request.method == "OPTIONS" and self.options.cors:
            exchange.respond(204, [("Allow", self._allow), *self._cors, *cors.preflight_headers(request.headers)])
            return
        status = 405 if request.method in _KNOWN_METHODS else 501
        self._error(exchange, status, f"{request.method} is not supported here", [("Allow", self._allow)])

    # -- answering --------------------------------------------------------------------------------

    def _serve_directory(self, exchange: Exchange, path: RequestPath, requested: str, real: str) -> None:
        request = exchange.request
        if not path.trailing_slash:
            # Built from the decoded segments, so it starts with exactly one "/" and cannot be read
            # as another host ("//evil.example"): the CVE-2021-28861 class.
            location = path.url(trailing_slash=True) + ("?" + request.query if request.query else "")
            exchange.respond(301, [("Location", location), ("Content-Type", _HTML), *self._cors], b"")
            return
        for name in _INDEX_FILES:
            index = os.path.join(requested, name)
            try:
                index_real = self._resolve(index)
            except PathError:
                continue
            if os.path.isfile(index_real):
                self._serve_file(exchange, index, index_real)
                return
        if not self.options.listing:
            self._error(exchange, 403, "directory listings are turned off")
            return
        try:
            entries = listing.scan(
                real,
                show_hidden=self.options.show_hidden,
                allowed=None if self.options.follow_symlinks else self._may_serve,
            )
        except OSError as error:
            self._error(exchange, *_status_for(error))
            return
        order = listing.parse_order(request.query)
        entries = listing.sort_entries(entries, order)
        url = path.url(trailing_slash=True)
        if prefers_json(request.headers.get("accept")):
            body, content_type = listing.render_json(url, entries), "application/json"
        else:
            body, content_type = listing.render_html(url, entries, order), _HTML
        exchange.respond(200, [("Content-Type", content_type), ("Vary", "Accept"), *self._cors], body)

    def _serve_file(self, exchange: Exchange, requested: str, real: str, *, spa: bool = False) -> None:
        """Answer with the file at ``real``, typed by the ``requested`` name, or with a precompressed
        sibling of it when the request accepts one. ``spa``: this is the single-page app's entry
        answering for a missing page, chosen by Accept, and with no fallback to itself."""
        request = exchange.request
        fallback = not spa
        try:
            opened = _open_regular(real)
        except OSError as error:
            self._error(exchange, *_status_for(error), fallback=fallback)
            return
        if opened is None:
            self._error(exchange, 404, "not a regular file", fallback=fallback)
            return
        file, info = opened
        coding = ""
        accept_encoding = request.headers.get_all("accept-encoding")
        if accept_encoding:  # no Accept-Encoding, no sibling lookups: the common case pays nothing
            sibling = self._sibling(real, info, ", ".join(accept_encoding))
            if sibling is not None:
                file.close()
                file, info, coding = sibling
        etag = make_etag(info, coding)
        modified = int(info.st_mtime)
        # Vary is on every response of every file, sibling or not: learning whether a sibling exists
        # would cost lookups on requests that do not ask for one, and saying that the response
        # depends on Accept-Encoding is true of any file here (RFC 9110 12.5.5).
        vary = "Accept-Encoding, Accept" if spa else "Accept-Encoding"
        headers = [("Last-Modified", http_date(modified)), ("ETag", etag), ("Vary", vary), *self._cache, *self._cors]
        status, ranges = files.decide(request, etag, modified, info.st_size)
        if status in (200, 206):
            content_type = self._mime_types(requested)
            headers.insert(0, ("Accept-Ranges", "bytes"))
            files.send(exchange, file, info.st_size, ranges, content_type, coding, headers)
            return
        file.close()
        if status == 304:
            # RFC 9110 15.4.5: the validators, Vary and Cache-Control a 200 would carry, no content metadata.
            exchange.respond(304, headers)
        elif status == 416:
            # RFC 9110 15.5.17: the length, so the client can ask again.
            unsatisfied = [("Content-Range", f"bytes */{info.st_size}")]
            self._error(exchange, 416, "no requested range lies within the file", unsatisfied)
        else:
            self._error(exchange, status, "a precondition failed")

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
                    opened = _open_regular(candidate, follow=self.options.follow_symlinks)
                except OSError as error:
                    if error.errno != errno.ELOOP:
                        raise
                    opened = _open_regular(self._resolve(candidate))
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

    def _error(
        self, exchange: Exchange, status: int, detail: str, headers: HeaderList = (), *, fallback: bool = True
    ) -> None:
        """Answer with an error status: the single-page app's entry instead of a 404 for a browser
        asking for a page, else the configured error page for ``status``, else a short built-in page."""
        request = exchange.request
        fields = [*headers, *self._cors]
        if self._spa is not None and status == 404:
            fields.append(("Vary", "Accept"))
            if fallback and request.method in _GET_OR_HEAD and asks_for_html(request.headers.get("accept")):
                try:
                    self._serve_file(exchange, self._spa, self._resolve(self._spa), spa=True)
                    return
                except PathError:
                    pass  # the entry became a symlink out of the root after the start
        page = self._error_pages.get(status)
        if page is not None:
            try:
                opened = _open_regular(self._resolve(page))
            except (OSError, PathError):
                opened = None
            if opened is not None:
                file, info = opened
                fields.insert(0, ("Content-Type", self._mime_types(page)))
                exchange.respond_file(status, fields, file, 0, info.st_size)
                return
        exchange.respond_error(status, detail, fields)


def _hidden(segments: Sequence[str]) -> bool:
    """True when a segment is a dot name (.git, .env), except a leading ``.well-known``: RFC 8615 made
    that directory for things that must be fetched (ACME challenges, security.txt)."""
    for index, segment in enumerate(segments):
        if segment.startswith(".") and not (index == 0 and segment == ".well-known"):
            return True
    return False


def _open_regular(path: str, *, follow: bool = True) -> tuple[BinaryIO, os.stat_result] | None:
    """The file at ``path`` opened for sendfile, with its stat; None when it is not a regular file.
    Raises OSError (ELOOP for a symlink when ``follow`` is false)."""
    # O_NONBLOCK: if the name was swapped for a FIFO after a stat, open must not block the loop.
    fd = os.open(path, _OPEN_FLAGS if follow else _OPEN_FLAGS | os.O_NOFOLLOW)
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb", buffering=0), info


def _status_for(error: OSError) -> tuple[int, str]:
    if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP):
        return 404, "not found"
    if error.errno in (errno.EACCES, errno.EPERM):
        return 403, "permission denied"
    return 500, "cannot read the file"
