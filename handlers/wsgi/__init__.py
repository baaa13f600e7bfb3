"""A WSGI gateway (PEP 3333) on the reactor: ``WSGIGateway(app, threads=4)`` is a handler.

``gateway.py`` runs the application (on worker threads, or inline on the loop), ``environ.py`` builds
the CGI variables, ``body.py`` is ``wsgi.input``, ``response.py`` checks ``start_response``'s
arguments and ``workers.py`` is the thread pool.
"""

from handlers.wsgi.gateway import WSGIApplication, WSGIGateway

__all__ = ["WSGIApplication", "WSGIGateway"]
