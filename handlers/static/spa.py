"""The single-page app fallback (``--spa``): a browser navigating to a route only the app knows
(``/dashboard/settings``) gets the app's entry page instead of a 404; scripts, images and fetch()
calls, which take anything (``*/*``), still get their 404."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.static.errorpages import ErrorPages
from handlers.static.fileanswer import VARY, FileAnswer
from handlers.static.negotiation import asks_for_html
from handlers.static.paths import PathError
from handlers.static.site import Site
from reactor.exchange import Exchange, HeaderList

# The entry's answer depends on Accept as well as on Accept-Encoding.
ENTRY_VARY = VARY + ", Accept"


class SpaFallback:
    """An error answer (handlers.static.errorpages.ErrorAnswer): a 404 to a request that asks for an HTML
    page is answered with the file at ``entry`` (a path under the ``site``'s root, checked at start and resolved
    again on each use) through ``answer_file``; anything else goes to ``pages``. Every 404 says it
    varies on Accept: with another Accept it could have been the entry."""

    def __init__(
        self,
        entry: str,
        site: Site,
        answer_file: FileAnswer,
        pages: ErrorPages,
        added_fields: Sequence[tuple[str, str]],
    ) -> None:
        self._entry = entry
        self._site = site
        self._answer_file = answer_file
        self._pages = pages
        self._not_found_fields = (*added_fields, ("Vary", "Accept"))

    def __call__(self, exchange: Exchange, status: int, detail: str, headers: HeaderList = ()) -> None:
        # A 404 comes from a GET or HEAD only: other methods get 405 or 501.
        if status == 404 and asks_for_html(exchange.request.headers.get("accept")):
            try:
                real = self._site.resolve(self._entry)
            except PathError:
                pass  # the entry became a symlink out of the root after the start
            else:
                self._answer_file(exchange, self._entry, real, self._without_entry, vary=ENTRY_VARY)
                return
        self._without_entry(exchange, status, detail, headers)

    def _without_entry(self, exchange: Exchange, status: int, detail: str, headers: HeaderList = ()) -> None:
        """The error answer that never falls back to the entry: for requests that do not ask for
        HTML, and for the entry's own errors (it may have gone, or fail a precondition)."""
        if status == 404:
            self._pages.answer(exchange, status, detail, [*headers, *self._not_found_fields])
        else:
            self._pages(exchange, status, detail, headers)
