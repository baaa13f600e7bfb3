"""What answers requests. A handler is a callable taking a reactor Exchange (reactor/exchange.py): it
is called on the loop thread when a request head arrives and answers through the exchange, at once or
later.

One folder per handler: ``static/`` (files, listings, archives: the default), ``upload/`` (PUT and
forms), ``auth/`` (HTTP Basic in front of any handler), ``status/`` (the status page and its metrics),
``livereload/`` and ``proxy/`` (the development server), ``wsgi/`` (a WSGI application, such as a
Flask app). Beside them: the router that picks a handler by path prefix (router.py), the
``BaseHTTPRequestHandler`` counterpart (requesthandler.py), redirects and CORS, the thread pool that
WSGI and the static handler's slow jobs share (threadpool.py, background.py), and the command-line
flags that build a handler (flags.py).

The package files import nothing: ``import handlers.static.paths`` loads that module and nothing
else of the server.
"""
