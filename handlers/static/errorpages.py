"""Error answers of the static handler: which status a filesystem error means, and the body of an
error response: the page configured for its status (nginx ``error_page``), else a short built-in page."""

from __future__ import annotations

import errno
from collections.abc import Mapping, Sequence
from typing import Protocol

from handlers.static.files import open_regular
from handlers.static.mimetypes import MimeTypes
from handlers.static.paths import PathError
from handlers.static.site import Site
from reactor.exchange import Exchange, HeaderList
from reactor.http.serverconnection import ERROR_CONTENT_TYPE
from reactor.http.writer import PreparedResponse, error_page

# Built-in answers kept encoded, by (status, detail, fields). Details and fields come from the code,
# but a few hold a part of the request (a 405 names the method): past this many, start again.
_MAX_BUILT_IN = 64


class ErrorAnswer(Protocol):
    """Answers ``exchange`` with an error ``status``; ``headers`` go first among its fields."""

    def __call__(self, exchange: Exchange, status: int, detail: str, headers: HeaderList = ()) -> None: ...


class ErrorPages:
    """The plain error answer: the file ``pages`` names for the status (a path under the ``site``'s
    root, checked at start and resolved again on each use), else the built-in page; with the fields
    added to every response (CORS, ``-H``)."""

    def __init__(
        self, pages: Mapping[int, str], site: Site, mime_types: MimeTypes, added_fields: Sequence[tuple[str, str]]
    ) -> None:
        self._pages = dict(pages)
        self._site = site
        self._mime_types = mime_types
        self._added_fields = tuple(added_fields)
        self._built_in: dict[tuple[int, str, tuple[tuple[str, str], ...]], PreparedResponse] = {}

    def __call__(self, exchange: Exchange, status: int, detail: str, headers: HeaderList = ()) -> None:
        # The usual error (a 404 the missing-path cache answers) has no fields of its own: no list made.
        self.answer(exchange, status, detail, [*headers, *self._added_fields] if headers else self._added_fields)

    def answer(self, exchange: Exchange, status: int, detail: str, fields: Sequence[tuple[str, str]]) -> None:
        """As calling it, but with exactly ``fields`` (the added ones included) besides a page's Content-Type."""
        page = self._pages.get(status)
        if page is not None:
            try:
                opened = open_regular(self._site.resolve(page))
            except (OSError, PathError):
                opened = None  # gone, or a symlink out of the root since the start: the built-in page
            if opened is not None:
                file, info = opened
                fields = [("Content-Type", self._mime_types(page)), *fields]
                exchange.respond_file(status, fields, file, 0, info.st_size)
                return
        exchange.respond_prepared(self._built_in_answer(status, detail, fields))

    def prepared(self, status: int, detail: str) -> PreparedResponse | None:
        """The whole answer to ``status``, made once, when it is the built-in page (no page is
        configured for it): what calling this with no fields of its own sends."""
        if status in self._pages:
            return None
        return self._built_in_answer(status, detail, self._added_fields)

    def _built_in_answer(self, status: int, detail: str, fields: Sequence[tuple[str, str]]) -> PreparedResponse:
        """What Exchange.respond_error would send, made once per (status, detail, fields): a repeated
        404 then costs what a cached file does. Raises ValueError as encode_fields does."""
        key = (status, detail, tuple(fields))
        answer = self._built_in.get(key)
        if answer is None:
            answer = PreparedResponse(status, [ERROR_CONTENT_TYPE, *fields], error_page(status, detail))
            if len(self._built_in) >= _MAX_BUILT_IN:
                self._built_in.clear()
            self._built_in[key] = answer
        return answer


def status_for(error: OSError) -> tuple[int, str]:
    """The status and detail to answer when finding, reading or listing a path raised ``error``."""
    if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP):
        return 404, "not found"
    if error.errno in (errno.EACCES, errno.EPERM):
        return 403, "permission denied"
    return 500, "cannot read the file"
