"""A live status page: what the reactor is doing now and over the last minutes.

``StatusPage`` answers ``path`` with an HTML page and ``path + ".json"`` with the numbers the page
polls once a second, and ``path + "/timeline?seconds=N"`` with the trace timeline (reactor/traceview.py)
of the last N seconds held by its trace ring; every other request goes to the handler it wraps. A sampler on the loop's
timer heap turns the server's counters (``Server.statistics()``) into rates once a second and keeps
the last five minutes for the charts. The page (status.html beside this module) loads its style and
script from ``path + ".css"`` and ``path + ".js"`` (status.css, status.js) and nothing from elsewhere;
it holds no inline code, and says so with ``Content-Security-Policy: default-src 'self'``.
"""

from __future__ import annotations

import collections
import dataclasses
import html
import json
import math
import time
import urllib.parse
from collections.abc import Callable
from importlib import resources
from typing import Any

from reactor import traceview
from reactor.exchange import Exchange, Handler
from reactor.loop import EventLoop
from reactor.server import ServerStatistics
from reactor.tracelog import parse
from reactor.tracering import TraceRing

SAMPLE_INTERVAL = 1.0
HISTORY = 300  # samples: five minutes at one a second
TIMELINE_SECONDS = 5.0  # the timeline's default window
MAX_TIMELINE_SECONDS = 300.0
_JSON = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
_HTML = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
# The page loads its style and script from this server and nothing else: say so, so the browser
# refuses anything else (and the policy the README shows for static files breaks nothing here).
_PAGE = [*_HTML, ("Content-Security-Policy", "default-src 'self'")]
_ASSETS = resources.files("handlers")
PAGE = _ASSETS.joinpath("status.html").read_text(encoding="utf-8")
_STYLESHEET = [("Content-Type", "text/css; charset=utf-8"), ("Cache-Control", "no-cache")]
_SCRIPT = [("Content-Type", "text/javascript; charset=utf-8"), ("Cache-Control", "no-cache")]


class Sampler:
    """Every ``interval`` seconds, the change in the server's counters divided by the time it took."""

    def __init__(
        self,
        loop: EventLoop,
        statistics: Callable[[], ServerStatistics],
        interval: float = SAMPLE_INTERVAL,
        keep: int = HISTORY,
    ) -> None:
        self._loop = loop
        self.statistics = statistics  # the counters sampled, read by the page as they are now
        self._interval = interval
        self.history: collections.deque[dict[str, float]] = collections.deque(maxlen=keep)
        self._previous = (loop.time(), statistics())
        self.started = time.time()
        loop.call_later(interval, self._sample)

    def _sample(self) -> None:
        now, current = self._loop.time(), self.statistics()
        then, previous = self._previous
        self._previous = (now, current)
        self.history.append(rates(previous, current, now - then, time.time()))
        self._loop.call_later(self._interval, self._sample)


def rates(previous: ServerStatistics, current: ServerStatistics, elapsed: float, wall: float) -> dict[str, float]:
    """One history point: per-second rates between two statistics ``elapsed`` seconds apart, plus gauges."""
    seconds = max(elapsed, 1e-9)
    loop_time = (current.loop.select_seconds - previous.loop.select_seconds) + (
        current.loop.busy_seconds - previous.loop.busy_seconds
    )
    return {
        "time": round(wall, 3),
        "requests": (current.requests - previous.requests) / seconds,
        "bytes_sent": (current.bytes_sent - previous.bytes_sent) / seconds,
        "bytes_received": (current.bytes_received - previous.bytes_received) / seconds,
        "iterations": (current.loop.iterations - previous.loop.iterations) / seconds,
        "select_share": (current.loop.select_seconds - previous.loop.select_seconds) / loop_time if loop_time else 1.0,
        "connections": current.connections,
        "queued": current.queued,
        "largest_queue": current.largest_queue,
    }


class StatusPage:
    """Serves the status page at ``path`` and its JSON at ``path + '.json'``; the rest to ``fallback``.

    The page is a handler, so it exists before the server whose numbers it shows: ``watch`` connects
    it to them (on the loop thread, before the server starts).
    """

    def __init__(self, path: str, fallback: Handler, trace: TraceRing | None = None) -> None:
        self.path = path
        self.json_path = path + ".json"
        self.timeline_path = path + "/timeline"
        # The page's style and script, files of their own: no inline code for a strict policy to refuse.
        self._assets = {
            path + ".css": (_STYLESHEET, _ASSETS.joinpath("status.css").read_bytes()),
            path + ".js": (_SCRIPT, _ASSETS.joinpath("status.js").read_bytes()),
        }
        self._fallback = fallback
        self._trace = trace
        self._page = (
            PAGE.replace("{{JSON}}", html.escape(self.json_path))
            .replace("{{STYLESHEET}}", html.escape(path + ".css"))
            .replace("{{SCRIPT}}", html.escape(path + ".js"))
            .replace("{{TIMELINE}}", self._timeline_link() if trace is not None else "")
            .encode()
        )
        self._sampler: Sampler | None = None

    def watch(
        self, loop: EventLoop, statistics: Callable[[], ServerStatistics], interval: float = SAMPLE_INTERVAL
    ) -> None:
        """Show ``statistics()``, sampled every ``interval`` seconds on ``loop``."""
        self._sampler = Sampler(loop, statistics, interval)

    def __call__(self, exchange: Exchange) -> None:
        path = exchange.request.path
        if path not in (self.path, self.json_path, self.timeline_path) and path not in self._assets:
            self._fallback(exchange)
            return
        if exchange.request.method not in ("GET", "HEAD"):
            exchange.respond_error(405, headers=[("Allow", "GET, HEAD")])
        elif path in self._assets:
            exchange.respond(200, *self._assets[path])
        elif path == self.timeline_path:
            self._timeline(exchange)
        elif self._sampler is None:
            exchange.respond_error(503, "the status page is not connected to a server")
        elif path == self.json_path:
            exchange.respond(200, _JSON, json.dumps(self.document()).encode())
        else:
            exchange.respond(200, _PAGE, self._page)

    def _timeline_link(self) -> str:
        href = html.escape(f"{self.timeline_path}?seconds={TIMELINE_SECONDS:g}")
        return f'&middot; <a id="timeline" href="{href}">timeline of the last {TIMELINE_SECONDS:g} s</a>'

    def _timeline(self, exchange: Exchange) -> None:
        """The trace of the last ``seconds`` (query parameter) as a timeline page."""
        if self._trace is None:
            exchange.respond_error(404, "no trace is kept for this status page")
            return
        values = urllib.parse.parse_qs(exchange.request.query).get("seconds", [str(TIMELINE_SECONDS)])
        try:
            seconds = float(values[-1])
        except ValueError:
            seconds = math.nan
        if not 0 < seconds <= MAX_TIMELINE_SECONDS:
            exchange.respond_error(400, f"seconds must be a number above 0 and at most {MAX_TIMELINE_SECONDS:g}")
            return
        timeline = parse(self._trace.recent(seconds))
        title = f"reactor trace: the last {seconds:g} s"
        exchange.respond(200, _HTML, traceview.page(timeline, title).encode())

    def document(self) -> dict[str, Any]:
        """The JSON the page polls (its fields are documented in docs/statistics.md)."""
        assert self._sampler is not None
        statistics = dataclasses.asdict(self._sampler.statistics())
        history = list(self._sampler.history)
        return {
            "time": round(time.time(), 3),
            "started": round(self._sampler.started, 3),
            "statistics": statistics,
            "rates": history[-1] if history else None,
            "history": history,
        }
