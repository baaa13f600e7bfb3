"""The minimal WSGI application of the benchmark: one short, fixed body with its Content-Length.

Served the same way by every server compared (commands in docs/seeds.md and loadtest/bench.py):
``python -m reactor --wsgi loadtest.wsgiapp:app``, ``waitress-serve loadtest.wsgiapp:app``,
``gunicorn -k sync loadtest.wsgiapp:app``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b"Hello, World!\n"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def app(environ: dict[str, Any], start_response: Callable[..., object]) -> Iterable[bytes]:
    start_response("200 OK", HEADERS)
    return [BODY]
