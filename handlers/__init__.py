"""What answers requests. A handler is a callable taking a reactor Exchange (see reactor.exchange):
it is called on the loop thread when a request head arrives and answers through the exchange, at
once or later. Static files come first; later handlers (WSGI, request-handler classes) follow the
same contract."""

from handlers.static.staticfiles import StaticFiles
from reactor.exchange import Exchange, Handler

__all__ = ["Exchange", "Handler", "StaticFiles"]
