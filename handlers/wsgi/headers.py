"""``-H`` beside a WSGI application: header fields added to each of its responses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from handlers.wsgi.gateway import StartResponse, WSGIApplication


def with_headers(app: WSGIApplication, fields: Sequence[tuple[str, str]]) -> WSGIApplication:
    """``app`` with ``fields`` added to every response it starts, except those it sets itself: the
    application's own value wins over the command line's."""

    def app_with_headers(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            own = {name.lower() for name, _value in headers}
            added = [(name, value) for name, value in fields if name.lower() not in own]
            return start_response(status, [*headers, *added], exc_info)

        return app(environ, start)

    return app_with_headers
