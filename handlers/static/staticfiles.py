"""Serving the files under one directory, as nginx and Caddy do: this module decides who answers a
request. filecache.py answers first, for a small file or a missing path already seen; site.py finds
what a request path names (and holds the rules: no dot names, no symlink out of the root);
fileanswer.py answers for a file, listinganswer.py for a directory, errorpages.py for an error
(spa.py first, with ``--spa``), handlers/upload/ for PUT and POST with ``--upload``.
"""

from __future__ import annotations

import stat
import time

from handlers import cors
from handlers.background import BackgroundJobs
from handlers.static.archiveanswer import ArchiveAnswer
from handlers.static.compression import Compressions
from handlers.static.errorpages import ErrorAnswer, ErrorPages, status_for
from handlers.static.fileanswer import FileAnswer
from handlers.static.filecache import FileCache, NotFound
from handlers.static.listinganswer import ListingAnswer
from handlers.static.mimetypes import MimeTypes
from handlers.static.options import StaticOptions
from handlers.static.paths import PathError, RequestPath
from handlers.static.site import Site
from handlers.static.spa import SpaFallback
from handlers.upload.uploads import Uploads
from reactor.exchange import Exchange
from reactor.http.events import Request
from reactor.http.writer import PreparedResponse
from reactor.loop.clock import Clock

# RFC 9110 9.3 methods plus PATCH: we know them and do not allow them here (405); anything else is
# a method we do not implement at all (501, RFC 9110 15.6.2).
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
_GET_OR_HEAD = frozenset({"GET", "HEAD"})
_HTML = "text/html; charset=utf-8"
CACHE_SIZE = 64 * 1024 * 1024  # small files, 404s and rendered listings together


class StaticFiles:
    """A handler that serves GET and HEAD for the files under ``root``, shaped by ``options``.

    Raises ValueError when an error page or the single-page-app entry is not a file under the root.
    """

    def __init__(
        self, root: str, options: StaticOptions | None = None, *, mount: str = "/", clock: Clock = time.monotonic
    ) -> None:
        self.options = options = options if options is not None else StaticOptions()
        # The URL path the root is served at (handlers.router mounts it beside other handlers).
        self.site = site = Site(
            root, mount=mount, show_hidden=options.show_hidden, follow_symlinks=options.follow_symlinks
        )
        self.root = site.root
        mime_types = MimeTypes(dict(options.mime_types))
        # On every response this handler sends: CORS's fields, then the user's own (-H).
        self._added_fields = [*(cors.RESPONSE_HEADERS if options.cors else ()), *options.headers]
        self._allow = (cors.METHODS if options.cors else "GET, HEAD") + (", PUT, POST" if options.upload else "")
        cache_control = [("Cache-Control", options.cache_control)] if options.cache_control else []
        pages = {
            status: site.configured_file(page, f"error page for {status}")
            for status, page in options.error_pages.items()
        }
        self._file_cache = FileCache(CACHE_SIZE // 2 + CACHE_SIZE // 8, site, clock)
        self._jobs = BackgroundJobs()  # its threads start on first use
        self._answer_file = FileAnswer(
            self._file_cache,
            site,
            mime_types,
            [*cache_control, *self._added_fields],
            compressions=Compressions(self._jobs) if options.compress else None,
            live_reload=options.live_reload,
        )
        error_pages = ErrorPages(pages, site, mime_types, self._added_fields)
        self._errors: ErrorAnswer = error_pages
        if options.spa:
            entry = site.configured_file(options.spa, "single-page app entry")
            self._errors = SpaFallback(entry, site, self._answer_file, error_pages, self._added_fields)
        # What a path that names nothing is answered with, from the file cache once it is known missing.
        self._not_found = NotFound(None if options.spa else error_pages.prepared(404, "not found"), self._errors)
        allowed = None if options.follow_symlinks else site.may_serve
        archives = None
        if options.archive:
            archives = ArchiveAnswer(self._jobs, self._added_fields, show_hidden=options.show_hidden, allowed=allowed)
        self._answer_listing = ListingAnswer(
            CACHE_SIZE // 8,
            CACHE_SIZE // 4,
            self._added_fields,
            show_hidden=options.show_hidden,
            allowed=allowed,
            upload_form=options.upload,
            archives=archives,
            clock=clock,
        )
        self._uploads: Uploads | None = None
        if options.upload:
            self._uploads = Uploads(
                site,
                self._jobs,
                self._stored,
                self._errors,
                self._added_fields,
                overwrite=options.upload_overwrite,
            )

    def close(self) -> None:
        """Stop the background threads (compression, upload fsyncs) once their queued work is done."""
        self._jobs.close()

    def forget_files(self) -> None:
        """Drop every file answer kept, and every path kept as naming nothing: files changed on disk
        (``--live-reload`` saw it), and the next requests must see them now, not within a second."""
        self._file_cache.forget_all()

    # -- finding what the request names -----------------------------------------------------------

    def __call__(self, exchange: Exchange) -> None:
        request = exchange.request
        if request.method not in _GET_OR_HEAD:
            if self._uploads is not None and request.method in ("PUT", "POST"):
                self._uploads(exchange)
            else:
                self._other_method(exchange)
            return
        if self._file_cache.answer(exchange):  # a small file seen before, or a path known to name nothing
            return
        try:
            path, requested, real, info = self.site.target(request.path)
        except PathError as error:
            self._errors(exchange, error.status, error.reason)
            return
        except OSError as error:
            status, detail = status_for(error)
            if status == 404:
                self._file_cache.keep_not_found(request.path, self._not_found)
                self._not_found.send(exchange)
            else:
                self._errors(exchange, status, detail)
            return
        if stat.S_ISDIR(info.st_mode):
            self._serve_directory(exchange, path, real)
        else:
            self._answer_file(exchange, requested, real, self._errors, path=path)

    def prepared_answer(self, request: Request) -> PreparedResponse | None:
        """The answer ``__call__`` would send ``request`` from the file cache, when it is one made before
        (a small file's 200 or 304, a known path's built-in 404): asked by the connection first, which
        then sends it with no Exchange (reactor.exchange.PreparedAnswer). None otherwise."""
        if request.method not in _GET_OR_HEAD:
            return None
        found = self._file_cache.lookup(request)
        return found.response if isinstance(found, NotFound) else found

    def _stored(self, url: str, directory: str) -> None:
        """An upload stored the file at the URL path ``url`` in the directory ``directory`` (real
        path): answers cached for either are out of date now, not in a second."""
        self._file_cache.forget(url)
        self._answer_listing.forget(directory)

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
