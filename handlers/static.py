"""Serving the files under one directory, as nginx and Caddy do: this module finds what a request
names and decides who answers; files.py answers for a file (filecache.py, before it, for a small
file already seen), listinganswer.py for a directory, errorpages.py for an error.

Nothing outside the root is readable: request paths are resolved by handlers.paths (no "..", no
encoded separators, no NUL), names starting with "." are private, and unless ``follow_symlinks`` the
real path of anything served (symlinks followed: a file, an index, a precompressed sibling, a listed
entry) must lie inside the root.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Sequence
from typing import BinaryIO

from handlers import cors, files
from handlers.conditional import http_date, make_etag
from handlers.errorpages import ErrorPages, status_for
from handlers.filecache import FileCache
from handlers.listinganswer import ListingAnswer
from handlers.mimetypes import MimeTypes
from handlers.negotiation import SUFFIXES, asks_for_html, preferred_codings
from handlers.options import StaticOptions
from handlers.paths import Located, PathError, RequestPath, parse_request_path
from reactor.clock import Clock
from reactor.exchange import Exchange, HeaderList

# RFC 9110 9.3 methods plus PATCH: we know them and do not allow them here (405); anything else is
# a method we do not implement at all (501, RFC 9110 15.6.2).
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
_GET_OR_HEAD = ("GET", "HEAD")
_INDEX_FILES = ("index.html", "index.htm")
_HTML = "text/html; charset=utf-8"

CACHE_SIZE = 64 * 1024 * 1024  # small files and rendered listings together


class StaticFiles:
    """A handler that serves GET and HEAD for the files under ``root``, shaped by ``options``.

    Raises ValueError when an error page or the single-page-app entry is not a file under the root.
    """

    def __init__(
        self, root: str, options: StaticOptions | None = None, *, mount: str = "/", clock: Clock = time.monotonic
    ) -> None:
        self.root = os.path.realpath(root)
        # The URL path the root is served at (handlers.router mounts it beside other handlers).
        self._mount = tuple(segment for segment in mount.split("/") if segment)
        self._root_prefix = self.root.rstrip(os.sep) + os.sep
        self.options = options = options if options is not None else StaticOptions()
        self._mime_types = MimeTypes(dict(options.mime_types))
        self._cors = list(cors.RESPONSE_HEADERS) if options.cors else []
        self._allow = cors.METHODS if options.cors else "GET, HEAD"
        self._cache_control = [("Cache-Control", options.cache_control)] if options.cache_control else []
        pages = {
            status: self._configured_file(path, f"error page for {status}")
            for status, path in options.error_pages.items()
        }
        self._error_pages = ErrorPages(pages, self._resolve, self._mime_types, self._cors)
        self._spa = self._configured_file(options.spa, "single-page app entry") if options.spa else None
        self._file_cache = FileCache(CACHE_SIZE // 2 + CACHE_SIZE // 8, self._target, self._locate, clock)
        self._answer_listing = ListingAnswer(
            CACHE_SIZE // 8,
            CACHE_SIZE // 4,
            self._cors,
            show_hidden=options.show_hidden,
            allowed=None if options.follow_symlinks else self._may_serve,
            clock=clock,
        )

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
        if self._file_cache.answer(exchange):
            return
        if self._file_cache.is_missing(request.path):
            self._error(exchange, 404, "not found")
            return
        try:
            path, requested, real, info = self._target(request.path)
        except PathError as error:
            self._error(exchange, error.status, error.reason)
            return
        except OSError as error:
            status, detail = status_for(error)
            if status == 404:
                self._file_cache.keep_missing(request.path)
            self._error(exchange, status, detail)
            return
        if stat.S_ISDIR(info.st_mode):
            self._serve_directory(exchange, path, real)
        else:
            self._serve_file(exchange, requested, real, path=path)

    def _target(self, raw_path: str) -> Located:
        """What a request path is answered with: as ``_locate``, but for a directory named with a
        trailing slash that has an index file, that file. Still a directory: a redirect (no slash)
        or a listing. Raises PathError (also 404 for a file named with a trailing slash) or OSError."""
        path, requested, real, info = self._locate(raw_path)
        if stat.S_ISDIR(info.st_mode):
            if path.trailing_slash:
                index = self._find_index(requested)
                if index is not None:
                    requested, real, info = index
        elif path.trailing_slash:
            raise PathError(404, "not a directory")  # /file.txt/ names no directory
        return Located(path, requested, real, info)

    def _locate(self, raw_path: str) -> Located:
        """What a request path names: the parsed path, its location under the root, that location with
        symlinks resolved, and its stat. Raises PathError (404 outside the mount point) or OSError."""
        path = parse_request_path(raw_path)
        mount = self._mount
        if path.segments[: len(mount)] != mount:
            raise PathError(404, "not found")  # after normalising, the path left the mount point
        segments = path.segments[len(mount) :]
        if not self.options.show_hidden and _hidden(segments):
            raise PathError(404, "not found")  # as if absent: its existence is private too
        requested = os.path.join(self.root, *segments)
        real = self._resolve(requested)
        return Located(path, requested, real, os.stat(real))

    def _find_index(self, requested: str) -> tuple[str, str, os.stat_result] | None:
        """The index file of a directory as its (requested, real) paths and stat, or None."""
        for name in _INDEX_FILES:
            index = os.path.join(requested, name)
            try:
                index_real = self._resolve(index)
                info = os.stat(index_real)
            except (PathError, OSError):
                continue
            if stat.S_ISREG(info.st_mode):
                return index, index_real, info
        return None

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

    def _serve_directory(self, exchange: Exchange, path: RequestPath, real: str) -> None:
        """Answer for a directory that has no index file or was named without a trailing slash."""
        request = exchange.request
        if not path.trailing_slash:
            # Built from the decoded segments, so it starts with exactly one "/" and cannot be read
            # as another host ("//evil.example"): the CVE-2021-28861 class.
            location = path.url(trailing_slash=True) + ("?" + request.query if request.query else "")
            exchange.respond(301, [("Location", location), ("Content-Type", _HTML), *self._cors], b"")
            return
        if not self.options.listing:
            self._error(exchange, 403, "directory listings are turned off")
            return
        self._answer_listing(exchange, path, real, self._error)

    def _serve_file(
        self,
        exchange: Exchange,
        requested: str,
        real: str,
        *,
        path: RequestPath | None = None,
        spa: bool = False,
    ) -> None:
        """Answer with the file at ``real``, typed by the ``requested`` name, or with a precompressed
        sibling of it when the request accepts one. ``path``: the parsed request path, given when a
        small file's answer may be kept in the file cache. ``spa``: this is the single-page app's
        entry answering for a missing page, chosen by Accept, and with no fallback to itself."""
        request = exchange.request
        fallback = not spa
        try:
            # Without --follow-symlinks, ``real`` was resolved and checked: none of it is a symlink, so
            # one that appears now (swapped in after the check) is refused, not followed.
            opened = files.open_regular(real, follow=self.options.follow_symlinks)
        except OSError as error:
            self._error(exchange, *status_for(error), fallback=fallback)
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
        # RFC 9110 15.4.5: a 304 carries the validators, Vary and Cache-Control a 200 would, no content metadata.
        validators = [
            ("Last-Modified", http_date(modified)),
            ("ETag", etag),
            ("Vary", vary),
            *self._cache_control,
            *self._cors,
        ]
        status, ranges = files.decide(request, etag, modified, info.st_size)
        if status in (200, 206):
            content_type = self._mime_types(requested)
            headers = [("Accept-Ranges", "bytes"), *validators]
            if status == 200 and not coding and path is not None:
                cached = self._file_cache.maybe_keep(
                    request.path, path, requested, real, file, info, etag, content_type, headers, validators
                )
                if cached is not None:
                    file.close()
                    exchange.respond(200, cached.fields, cached.body)
                    return
            files.send(exchange, file, info.st_size, ranges, content_type, coding, headers)
            return
        file.close()
        if status == 304:
            exchange.respond(304, validators)
        elif status == 416:
            # RFC 9110 15.5.17: the length, so the client can ask again.
            unsatisfied = [("Content-Range", f"bytes */{info.st_size}"), ("Vary", vary)]
            self._error(exchange, 416, "no requested range lies within the file", unsatisfied)
        else:
            # A 412 too came from the selected representation's validators (RFC 9110 12.5.5).
            self._error(exchange, status, "a precondition failed", [("Vary", vary)])

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
                    opened = files.open_regular(candidate, follow=self.options.follow_symlinks)
                except OSError as error:
                    if error.errno != errno.ELOOP:
                        raise
                    opened = files.open_regular(self._resolve(candidate))
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
        asking for a page, else the error pages' answer."""
        request = exchange.request
        fields = [*headers, *self._cors]
        if self._spa is not None and status == 404:
            fields.append(("Vary", "Accept"))
            # A 404 comes from a GET or HEAD only: other methods get 405 or 501.
            if fallback and asks_for_html(request.headers.get("accept")):
                try:
                    self._serve_file(exchange, self._spa, self._resolve(self._spa), spa=True)
                    return
                except PathError:
                    pass  # the entry became a symlink out of the root after the start
        self._error_pages.answer(exchange, status, detail, fields)


def _hidden(segments: Sequence[str]) -> bool:
    """True when a segment is a dot name (.git, .env), except a leading ``.well-known``: RFC 8615 made
    that directory for things that must be fetched (ACME challenges, security.txt)."""
    for index, segment in enumerate(segments):
        if segment.startswith(".") and not (index == 0 and segment == ".well-known"):
            return True
    return False
