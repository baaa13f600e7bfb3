"""A WSGI gateway (PEP 3333) on the reactor: ``WSGIGateway(app, threads=4)`` is a handler.

``gateway.py`` runs the application (on worker threads, or inline on the loop), ``environ.py`` builds
the CGI variables, ``body.py`` is ``wsgi.input``, ``response.py`` checks ``start_response``'s
arguments; the threads are handlers/threadpool.py's. ``WSGIGateway`` and ``WSGIApplication`` are
imported from gateway.py on first use (PEP 562), so importing one of the other modules loads no more.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handlers.wsgi.gateway import WSGIApplication, WSGIGateway

__all__ = ["WSGIApplication", "WSGIGateway"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'handlers.wsgi' has no attribute {name!r}")
    value = getattr(importlib.import_module("handlers.wsgi.gateway"), name)
    globals()[name] = value  # the next access is a plain attribute
    return value
