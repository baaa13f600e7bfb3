"""``--live-reload``: the browser's side of it. The script at SCRIPT_PATH (livereload.js beside this
module, which handlers/livereload/inject.py puts into every HTML page) opens a Server-Sent Events stream at
EVENTS_PATH; ``watch`` watches the served trees and tells every open stream of each burst of changes,
and the script reloads its page, or swaps its stylesheets in place when only stylesheets changed.

A stream is a response with no end of its own (``Exchange.mark_long_lived``): it holds no timer while
idle, and a graceful shutdown ends it at once. A ``reload`` is a stream's last message: its page goes
away and opens another, and the connection goes back to keep-alive. A comment line every HEARTBEAT
seconds finds the streams of tabs closed meanwhile: a connection is not read while its response is
sent, so a peer that went away shows only when a write fails.

Every message carries an id, this server's and the count of batches told so far. The first message
sets the browser's reconnection delay (the ``retry:`` field); a browser that lost its stream comes
back after it with the last id it saw (``Last-Event-ID``), and an id that is not the current one (a
restarted server's, or one from before changes the page missed) is answered with a reload at once.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from functools import partial
from importlib import resources

from handlers.livereload.inject import SCRIPT_PATH
from handlers.livereload.treewatch import TreeWatch
from reactor.exchange import Exchange, Handler
from reactor.loop.eventloop import EventLoop
from reactor.loop.timers import TimerHandle

logger = logging.getLogger(__name__)

EVENTS_PATH = "/-/livereload"
RETRY_MS = 1000  # the browser's delay before it reconnects to a stream that ended
HEARTBEAT = 15.0  # seconds between comment lines on idle streams (sse-starlette's ping, below proxies' 60 s)
SCRIPT = resources.files("handlers.livereload").joinpath("livereload.js").read_bytes()

_SCRIPT_FIELDS = [("Content-Type", "text/javascript; charset=utf-8"), ("Cache-Control", "no-cache")]
_STREAM_FIELDS = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")]
_ALLOW = [("Allow", "GET, HEAD")]
_STYLESHEET = ".css"


def event(paths: Sequence[str], ident: str) -> tuple[bool, bytes]:
    """What a batch of changed files tells the pages: whether they reload (else the batch is only
    stylesheets, which they swap in place), and the message: ``reload`` or ``css`` with the id
    ``ident`` and the files' names as a JSON list (one line: a name may hold a newline)."""
    reload = not paths or not all(path.endswith(_STYLESHEET) for path in paths)
    names = json.dumps(sorted({os.path.basename(path) for path in paths}))
    return reload, f"event: {'reload' if reload else 'css'}\nid: {ident}\ndata: {names}\n\n".encode()


class LiveReload:
    """A handler: the script at SCRIPT_PATH, event streams at EVENTS_PATH, every other request to
    ``fallback``."""

    def __init__(self, fallback: Handler, heartbeat: float = HEARTBEAT) -> None:
        self._fallback = fallback
        self._heartbeat = heartbeat
        self._streams: set[Exchange] = set()
        self._beat: TimerHandle | None = None
        self._server = secrets.token_hex(4)  # the first half of every id: another server's ids differ
        self.events = 0  # batches told so far: the second half

    def __call__(self, exchange: Exchange) -> None:
        path = exchange.request.path
        if path not in (SCRIPT_PATH, EVENTS_PATH):
            self._fallback(exchange)
        elif exchange.request.method not in ("GET", "HEAD"):
            exchange.respond_error(405, headers=_ALLOW)
        elif path == SCRIPT_PATH:
            exchange.respond(200, _SCRIPT_FIELDS, SCRIPT)
        elif exchange.request.method == "HEAD":
            exchange.start_response(200, _STREAM_FIELDS)
            exchange.end()
        else:
            self._open(exchange)

    @property
    def streams(self) -> int:
        """Streams open now, as far as writing to them could tell (a tab closed since the last write
        still counts: see HEARTBEAT)."""
        return sum(not exchange.finished for exchange in self._streams)

    @property
    def ident(self) -> str:
        """The id of the last message: a page that saw it has seen every change."""
        return f"{self._server}-{self.events}"

    def watch(self, loop: EventLoop, roots: Sequence[str], forget: Sequence[Callable[[], object]] = ()) -> TreeWatch:
        """Watch the trees under ``roots``, and at each burst of changes call every ``forget`` (the
        caches of what the browsers will ask for again) and tell every stream. Stop with ``close()``."""
        return TreeWatch(loop, roots, partial(self._changed, forget))

    def _changed(self, forget: Sequence[Callable[[], object]], paths: Sequence[str]) -> None:
        for callback in forget:
            callback()
        self.events += 1
        reload, message = event(paths, self.ident)
        logger.info("live reload: %s to %d stream(s)", message.decode().strip().replace("\n", " "), self.streams)
        self._send(message, end=reload)

    def _open(self, exchange: Exchange) -> None:
        exchange.start_response(200, _STREAM_FIELDS)
        exchange.mark_long_lived()
        exchange.write(f"retry: {RETRY_MS}\nid: {self.ident}\n\n".encode())
        seen = exchange.request.headers.get_all("last-event-id")
        if seen and seen[-1] != self.ident:
            # A page back after losing its stream, that has not seen everything this server told.
            exchange.write(event([], self.ident)[1])
            exchange.end()
            return
        self._streams.add(exchange)
        exchange.on_abort(partial(self._streams.discard, exchange))
        if self._beat is None:
            self._beat = exchange.loop.call_later(self._heartbeat, self._keep_alive, exchange.loop)

    def _keep_alive(self, loop: EventLoop) -> None:
        self._beat = None
        self._send(b":\n")
        if self._streams:
            self._beat = loop.call_later(self._heartbeat, self._keep_alive, loop)

    def _send(self, message: bytes, *, end: bool = False) -> None:
        """Write ``message`` to every stream; with ``end``, it is their last (the pages reload and
        open new ones), so they end now rather than wait for a heartbeat to find them gone."""
        for exchange in list(self._streams):
            if exchange.finished:  # ended by a graceful shutdown
                self._streams.discard(exchange)
                continue
            exchange.write(message)  # a peer that went away aborts it: on_abort drops it
            if end:
                exchange.end()
                self._streams.discard(exchange)
