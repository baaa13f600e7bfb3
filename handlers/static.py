"""Serving the files under one directory, as nginx and Caddy do: this module finds what a request
names and decides who answers; fileanswer.py answers for a file (filecache.py, before it, for a small
file already seen), listinganswer.py for a directory, errorpages.py for an error (spa.py first, with
``--spa``), upload.py for PUT and POST with ``--upload``.

Nothing outside the root is readable: request paths are resolved by handlers.paths (no "..", no
encoded separators, no NUL), names starting with "." are private, and unless ``follow_symlinks`` the
real path of anything served (symlinks followed: a file, an index, a precompressed sibling, a listed
entry) must lie inside the root.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Sequence

from handlers import cors
from handlers.background import BackgroundJobs
from handlers.compression import Compressions
from handlers.errorpages import ErrorAnswer, ErrorPages, status_for
from handlers.fileanswer import FileAnswer
from handlers.filecache import FileCache
from handlers.listinganswer import ListingAnswer
from handlers.mimetypes import MimeTypes
from handlers.options import StaticOptions
from handlers.paths import Located, PathError, RequestPath, parse_request_path
from handlers.spa import SpaFallback
from handlers.upload import Uploads
from reactor.clock import Clock
from reactor.exchange import Exchange

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
        mime_types = MimeTypes(dict(options.mime_types))
        # On every response this handler sends: CORS's fields, then the user's own (-H).
        self._added_fields = [*(cors.RESPONSE_HEADERS if options.cors else ()), *options.headers]
        self._allow = (cors.METHODS if options.cors else "GET, HEAD") + (", PUT, POST" if options.upload else "")
        cache_control = [("Cache-Control", options.cache_control)] if options.cache_control else []
        pages = {
            status: self._configured_file(path, f"error page for {status}")
            for status, path in options.error_pages.items()
        }
        self._file_cache = FileCache(CACHE_SIZE // 2 + CACHE_SIZE // 8, self._target, self._locate, clock)
        self._jobs = BackgroundJobs()  # its threads start on first use
        self._answer_file = FileAnswer(
            self._file_cache,
            self._resolve,
            mime_types,
            [*cache_control, *self._added_fields],
            follow_symlinks=options.follow_symlinks,
            compressions=Compressions(self._jobs) if options.compress else None,
            live_reload=options.live_reload,
        )
        error_pages = ErrorPages(pages, self._resolve, mime_types, self._added_fields)
        self._errors: ErrorAnswer = error_pages
        if options.spa:
            entry = self._configured_file(options.spa, "single-page app entry")
            self._errors = SpaFallback(entry, self._resolve, self._answer_file, error_pages, self._added_fields)
        self._answer_listing = ListingAnswer(
            CACHE_SIZE // 8,
            CACHE_SIZE // 4,
            self._added_fields,
            show_hidden=options.show_hidden,
            allowed=None if options.follow_symlinks else self._may_serve,
            upload_form=options.upload,
            clock=clock,
        )
        self._uploads: Uploads | None = None
        if options.upload:
            self._uploads = Uploads(
                self.root,
                self._under_mount,
                self._resolve,
                self._jobs,
                self._stored,
                self._errors,
                self._added_fields,
                show_hidden=options.show_hidden,
                overwrite=options.upload_overwrite,
            )

    def close(self) -> None:
        """Stop the background threads (compression, upload fsyncs) once their queued work is done."""
        self._jobs.close()

    def forget_files(self) -> None:
        """Drop every file answer kept, and every path kept as naming nothing: files changed on disk
        (``--live-reload`` saw it), and the next requests must see them now, not within a second."""
        self._file_cache.forget_all()

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
            if self._uploads is not None and request.method in ("PUT", "POST"):
                self._uploads(exchange)
            else:
                self._other_method(exchange)
            return
        if self._file_cache.answer(exchange):
            return
        if self._file_cache.is_missing(request.path):
            self._errors(exchange, 404, "not found")
            return
        try:
            path, requested, real, info = self._target(request.path)
        except PathError as error:
            self._errors(exchange, error.status, error.reason)
            return
        except OSError as error:
            status, detail = status_for(error)
            if status == 404:
                self._file_cache.keep_missing(request.path)
            self._errors(exchange, status, detail)
            return
        if stat.S_ISDIR(info.st_mode):
            self._serve_directory(exchange, path, real)
        else:
            self._answer_file(exchange, requested, real, self._errors, path=path)

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
        path, segments = self._under_mount(raw_path)
        if not self.options.show_hidden and _hidden(segments):
            raise PathError(404, "not found")  # as if absent: its existence is private too
        requested = os.path.join(self.root, *segments)
        real = self._resolve(requested)
        return Located(path, requested, real, os.stat(real))

    def _under_mount(self, raw_path: str) -> tuple[RequestPath, tuple[str, ...]]:
        """The parsed request path and its segments under the root. Raises PathError (404 outside the
        mount point)."""
        path = parse_request_path(raw_path)
        mount = self._mount
        if path.segments[: len(mount)] != mount:
            raise PathError(404, "not found")  # after normalising, the path left the mount point
        return path, path.segments[len(mount) :]

    def _stored(self, url: str, directory: str) -> None:
        """An upload stored the file at the URL path ``url`` in the directory ``directory`` (real
        path): answers cached for either are out of date now, not in a second."""
        self._file_cache.forget(url)
        self._answer_listing.forget(directory)

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
            preflight = cors.preflight_headers(request.headers)
            exchange.respond(204, [("Allow", self._allow), *self._added_fields, *preflight])
            return
        status = 405 if request.method in _KNOWN_METHODS else 501
        self._errors(exchange, status, f"{request.method} is not supported here", [("Allow", self._allow)])

    # -- answering --------------------------------------------------------------------------------

    def _serve_directory(self, exchange: Exchange, path: RequestPath, real: str) -> None:
        """Answer for a directory that has no index file or was named without a trailing slash."""
        request = exchange.request
        if not path.trailing_slash:
            # Built from the decoded segments, so it starts with exactly one "/" and cannot be read
            # as another host ("//evil.example"): the CVE-2021-28861 class.
            location = path.url(trailing_slash=True) + ("?" + request.query if request.query else "")
            exchange.respond(301, [("Location", location), ("Content-Type", _HTML), *self._added_fields], b"")
            return
        if not self.options.listing:
            self._errors(exchange, 403, "directory listings are turned off")
            return
        self._answer_listing(exchange, path, real, self._errors)


def _hidden(segments: Sequence[str]) -> bool:
    """True when a segment is a dot name (.git, .env), except a leading ``.well-known``: RFC 8615 made
    that directory for things that must be fetched (ACME challenges, security.txt)."""
    for index, segment in enumerate(segments):
        if segment.startswith(".") and not (index == 0 and segment == ".well-known"):
            return True
    return False
