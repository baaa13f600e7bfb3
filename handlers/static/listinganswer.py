"""A directory's listing as the answer: its entries read at most once per change (the scan cache) and
the page rendered once per URL, order and format (the listing cache). listing.py reads and renders."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handlers.static import listing
from handlers.static.archive import FORMATS
from handlers.static.archiveanswer import ArchiveAnswer
from handlers.static.cache import RevalidatingCache
from handlers.static.errorpages import ErrorAnswer, status_for
from handlers.static.negotiation import prefers_json
from handlers.static.paths import RequestPath
from reactor.exchange import Exchange
from reactor.http.writer import PreparedResponse
from reactor.loop.clock import Clock

# A cached listing is re-rendered this often even when the directory's mtime has not moved: changing
# a file's size or time does not touch its directory's mtime.
LISTING_MAX_AGE = 10.0
_HTML = "text/html; charset=utf-8"
# The stylesheet's URL names its version (listing.STYLESHEET_VERSION): a year is "for good" (RFC 9111 5.2.2.1).
_IMMUTABLE = ("Cache-Control", "public, max-age=31536000, immutable")

ListingKey = tuple[str, listing.Order, bool]  # URL path (it shows in the page), order, JSON rather than HTML


@dataclass(frozen=True, slots=True)
class CachedScan:
    """A directory's entries, read once for every order and format its listing is asked in."""

    real: str  # the directory, symlinks resolved
    mtime_ns: int  # of the directory when it was read
    read_at: float  # clock time of the reading
    entries: tuple[listing.Entry, ...]


@dataclass(frozen=True, slots=True)
class CachedListing:
    """A listing rendered from ``scan``: good while that scan is the directory's current one."""

    scan: CachedScan
    answer: PreparedResponse  # its 200, body included


class ListingAnswer:
    """Answers with the listing of a directory, as HTML or as JSON when Accept prefers it, in the order
    the query asks for; at most ``scan_size`` bytes of scans and ``listing_size`` of rendered pages.

    Names starting with "." are left out unless ``show_hidden``, symlinks ``allowed`` refuses too.
    ``upload_form``: the HTML page has a form to upload files into the directory. ``archives``: the
    directory can be downloaded as an archive (``?download=zip``), and the page links it.
    """

    def __init__(
        self,
        scan_size: int,
        listing_size: int,
        added_fields: Sequence[tuple[str, str]],
        *,
        show_hidden: bool,
        allowed: Callable[[str], bool] | None,
        upload_form: bool = False,
        archives: ArchiveAnswer | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._upload_form = upload_form
        self._archives = archives
        self._added_fields = added_fields
        self._stylesheet = PreparedResponse(
            200, [("Content-Type", "text/css; charset=utf-8"), _IMMUTABLE, *added_fields], listing.STYLESHEET
        )
        self._show_hidden = show_hidden
        self._allowed = allowed
        self._clock = clock
        # Directory entries by real path, and listings rendered from them.
        self._scans: RevalidatingCache[str, CachedScan] = RevalidatingCache(
            scan_size, self._scan_still_valid, clock=clock
        )
        self._listings: RevalidatingCache[ListingKey, CachedListing] = RevalidatingCache(
            listing_size, self._listing_still_valid, clock=clock
        )

    def __call__(self, exchange: Exchange, path: RequestPath, real: str, errors: ErrorAnswer) -> None:
        """Answer with the listing of the directory at ``real``, named by ``path`` (with a trailing
        slash), or its stylesheet when the query asks for it, or through ``errors`` when the
        directory cannot be read."""
        request = exchange.request
        query = listing.parse_query(request.query)
        if query.stylesheet:
            exchange.respond_prepared(self._stylesheet)
            return
        kind = FORMATS.get(query.download or "")
        if kind is not None and self._archives is not None:
            self._archives(exchange, path, real, kind, errors)
            return
        order = query.order
        url = path.url(trailing_slash=True)
        key = (url, order, prefers_json(request.headers.get("accept")))
        cached = self._listings.get(key)
        # The key is the URL, not the directory: a symlink retargeted since names another one.
        if cached is None or cached.scan.real != real:
            try:
                cached = self._render(real, *key)
            except OSError as error:
                errors(exchange, *status_for(error))
                return
            self._listings.put(key, cached, len(cached.answer.body))
        exchange.respond_prepared(cached.answer)

    def _render(self, real: str, url: str, order: listing.Order, json: bool) -> CachedListing:
        """The listing of the directory at ``real``, rendered. Raises OSError."""
        scan = self._scan(real)
        entries = listing.sort_entries(list(scan.entries), order)
        if json:
            body, content_type = listing.render_json(url, entries), "application/json"
        else:
            page = listing.render_html(
                url, entries, order, upload_form=self._upload_form, archive_links=self._archives is not None
            )
            body, content_type = page, _HTML
        fields = [("Content-Type", content_type), ("Vary", "Accept"), *self._added_fields]
        return CachedListing(scan, PreparedResponse(200, fields, body))

    def _scan(self, real: str) -> CachedScan:
        """The entries of the directory at ``real``, read at most once per change. Raises OSError."""
        scan = self._scans.get(real)
        if scan is None:
            mtime_ns = os.stat(real).st_mtime_ns  # taken first: a change during the scan shows next time
            entries = listing.scan(real, show_hidden=self._show_hidden, allowed=self._allowed)
            scan = CachedScan(real, mtime_ns, self._clock(), tuple(entries))
            self._scans.put(real, scan, 256 * len(entries) + 256)
        return scan

    def forget(self, real: str) -> None:
        """Drop the scan and the listings of the directory at ``real``: it just changed."""
        self._scans.discard(real)
        self._listings.discard_where(lambda _key, cached: cached.scan.real == real)

    def _scan_still_valid(self, real: str, scan: CachedScan) -> bool:
        try:
            mtime_ns = os.stat(real).st_mtime_ns
        except OSError:
            return False
        return mtime_ns == scan.mtime_ns and self._clock() - scan.read_at < LISTING_MAX_AGE

    def _listing_still_valid(self, key: ListingKey, cached: CachedListing) -> bool:
        try:
            return self._scan(cached.scan.real) is cached.scan
        except OSError:
            return False
