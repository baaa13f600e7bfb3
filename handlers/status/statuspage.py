"""A live status page: what the reactor is doing now and over the last minutes.

``StatusPage`` answers ``path`` with an HTML page, ``path + ".json"`` with the numbers the page polls
once a second, ``path + "/metrics"`` with the same numbers for Prometheus (handlers/status/metrics.py), and
``path + "/timeline?seconds=N"`` with the trace timeline (reactor/trace/traceview.py) of the last N seconds
held by its trace ring; every other request goes to the handler it wraps. A sampler on the loop's
timer heap turns the server's counters (``Server.statistics()``) into rates once a second and keeps
the last five minutes for the charts. The page (status.html beside this module) loads its style and
script from ``path + ".css"`` and ``path + ".js"`` (status.css, status.js) and nothing from elsewhere;
it holds no inline code, and says so with ``Content-Security-Policy: default-src 'self'``.

Under ``--workers`` each worker has its own page, and whichever takes a request answers it: so each
leaves its numbers on the workers' board (reactor/supervisor.py: StatisticsBoard) every second and
before it answers, and shows the whole server's, the sum of every worker's last numbers, and says
which worker answered.
"""

from __future__ import annotations

import collections
import dataclasses
import html
import json
import math
import os
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from handlers.status.metrics import CONTENT_TYPE, ReactorNumbers, exposition
from reactor.exchange import Exchange, Handler
from reactor.loop.eventloop import EventLoop, LoopStatistics
from reactor.server import ServerStatistics
from reactor.supervisor import StatisticsBoard
from reactor.trace import traceview
from reactor.trace.tracelog import parse
from reactor.trace.tracering import TraceRing

SAMPLE_INTERVAL = 1.0
HISTORY = 300  # samples: five minutes at one a second
TIMELINE_SECONDS = 5.0  # the timeline's default window
MAX_TIMELINE_SECONDS = 300.0
_JSON = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
_HTML = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
_METRICS = [("Content-Type", CONTENT_TYPE), ("Cache-Control", "no-store")]
# The page loads its style and script from this server and nothing else: say so, so the browser
# refuses anything else (and the policy the README shows for static files breaks nothing here).
_PAGE = [*_HTML, ("Content-Security-Policy", "default-src 'self'")]
_ASSETS = resources.files("handlers.status")
PAGE = _ASSETS.joinpath("status.html").read_text(encoding="utf-8")
_STYLESHEET = [("Content-Type", "text/css; charset=utf-8"), ("Cache-Control", "no-cache")]
_SCRIPT = [("Content-Type", "text/javascript; charset=utf-8"), ("Cache-Control", "no-cache")]


Point = dict[str, float]  # one history point: rates and gauges at one moment (rates())


class Sampler:
    """Every ``interval`` seconds, the change in the server's counters divided by the time it took:
    ``latest``; ``history`` keeps the last ``keep`` points, each passed through ``combine`` first
    (a worker's page adds the other workers' latest points to its own)."""

    def __init__(
        self,
        loop: EventLoop,
        statistics: Callable[[], ServerStatistics],
        interval: float = SAMPLE_INTERVAL,
        keep: int = HISTORY,
        combine: Callable[[Point], Point] | None = None,
    ) -> None:
        self._loop = loop
        self.statistics = statistics  # the counters sampled, read by the page as they are now
        self._interval = interval
        self._combine = combine
        self.latest: Point | None = None
        self.history: collections.deque[Point] = collections.deque(maxlen=keep)
        self._previous = (loop.time(), statistics())
        self.started = time.time()
        loop.call_later(interval, self._sample)

    def _sample(self) -> None:
        now, current = self._loop.time(), self.statistics()
        then, previous = self._previous
        self._previous = (now, current)
        self.latest = point = rates(previous, current, now - then, time.time())
        self.history.append(point if self._combine is None else self._combine(point))
        self._loop.call_later(self._interval, self._sample)


def rates(previous: ServerStatistics, current: ServerStatistics, elapsed: float, wall: float) -> Point:
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


def combined_rates(points: Sequence[Point], wall: float) -> Point:
    """Several reactors' history points (at least one) at about the same moment as one server's: the
    rates and gauges added up, but the largest queue the largest and the share of time in select their
    mean (each reactor's loop runs the whole time)."""
    total: Point = {"time": round(wall, 3)}
    for name in ("requests", "bytes_sent", "bytes_received", "iterations", "connections", "queued"):
        total[name] = sum(point[name] for point in points)
    total["largest_queue"] = max(point["largest_queue"] for point in points)
    total["select_share"] = sum(point["select_share"] for point in points) / len(points)
    return total


def combined(parts: Sequence[ServerStatistics]) -> ServerStatistics:
    """Several reactors' statistics (at least one) as one server's: every number added up, but the
    largest queue the largest."""
    loops = [part.loop for part in parts]
    methods = sorted({method for part in parts for method in part.responses})
    return ServerStatistics(
        connections=sum(part.connections for part in parts),
        by_state=_added(part.by_state for part in parts),
        streams=sum(part.streams for part in parts),
        accepted=sum(part.accepted for part in parts),
        requests=sum(part.requests for part in parts),
        responses={method: _added(part.responses.get(method, {}) for part in parts) for method in methods},
        bytes_received=sum(part.bytes_received for part in parts),
        bytes_sent=sum(part.bytes_sent for part in parts),
        queued=sum(part.queued for part in parts),
        largest_queue=max(part.largest_queue for part in parts),
        closes=_added(part.closes for part in parts),
        tls_handshake_failures=_added(part.tls_handshake_failures for part in parts),
        loop=LoopStatistics(*(sum(numbers) for numbers in zip(*map(dataclasses.astuple, loops), strict=True))),
    )


def _added(counts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for each in counts:
        for key, count in each.items():
            total[key] = total.get(key, 0) + count
    return total


def statistics_from(document: Mapping[str, Any]) -> ServerStatistics:
    """ServerStatistics back from its JSON form (dataclasses.asdict)."""
    return ServerStatistics(**{**document, "loop": LoopStatistics(**document["loop"])})


class StatusPage:
    """Serves the status page at ``path``, its JSON at ``path + '.json'`` and its metrics at
    ``path + '/metrics'``; the rest to ``fallback``.

    The page is a handler, so it exists before the server whose numbers it shows: ``watch`` connects
    it to them (on the loop thread, before the server starts).
    """

    def __init__(self, path: str, fallback: Handler, trace: TraceRing | None = None) -> None:
        self.path = path
        self.json_path = path + ".json"
        self.metrics_path = path + "/metrics"
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
        self._handler_counters: Sequence[Callable[[], Mapping[str, int]]] = ()
        self._board: StatisticsBoard | None = None
        self._worker = 0

    def watch(
        self,
        loop: EventLoop,
        statistics: Callable[[], ServerStatistics],
        interval: float = SAMPLE_INTERVAL,
        *,
        handler_counters: Sequence[Callable[[], Mapping[str, int]]] = (),
        board: StatisticsBoard | None = None,
        worker: int = 0,
    ) -> None:
        """Show ``statistics()``, sampled every ``interval`` seconds on ``loop``, and what the handlers
        count: each of ``handler_counters`` returns {name: count}, names of metrics.HANDLER_METRICS.
        A worker of several gives the ``board`` they share and its number (``worker``): its page then
        shows the whole server."""
        self._handler_counters = handler_counters
        if board is not None:
            self._board, self._worker = board, worker
        self._sampler = Sampler(loop, statistics, interval, combine=self._whole_point if board is not None else None)
        if board is not None:
            self._publish()  # at once: a restarted worker's slot no longer shows its predecessor

    def __call__(self, exchange: Exchange) -> None:
        path = exchange.request.path
        if path not in (self.path, self.json_path, self.metrics_path, self.timeline_path) and path not in self._assets:
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
        elif path == self.metrics_path:
            exchange.respond(200, _METRICS, self.metrics().encode())
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
        if self._board is not None:
            title += f" of worker {self._worker} of {self._board.count}"  # each worker keeps its own trace
        exchange.respond(200, _HTML, traceview.page(timeline, title).encode())

    def document(self) -> dict[str, Any]:
        """The JSON the page polls (its fields are documented in docs/statistics.md)."""
        assert self._sampler is not None
        history = list(self._sampler.history)
        if self._board is None:
            statistics, handlers = self._sampler.statistics(), self._counted()
            worker, workers = None, []
        else:
            workers = self._publish()
            statistics = combined([statistics_from(each["statistics"]) for each in workers])
            handlers = _added(each["handlers"] for each in workers)
            worker = {"number": self._worker, "pid": os.getpid(), "of": self._board.count}
        return {
            "time": round(time.time(), 3),
            "started": round(self._sampler.started, 3),
            "statistics": dataclasses.asdict(statistics),
            "handlers": handlers,
            "rates": history[-1] if history else None,
            "history": history,
            "worker": worker,  # which worker answered (None without --workers)
            "workers": workers,  # what each worker left on the board
        }

    def metrics(self) -> str:
        """The numbers in Prometheus' text format: this reactor's, or each worker's under its label."""
        assert self._sampler is not None
        if self._board is None:
            numbers = [ReactorNumbers(self._sampler.statistics(), self._counted(), self._sampler.started)]
            return exposition(numbers)
        workers = [
            ReactorNumbers(statistics_from(w["statistics"]), w["handlers"], w["started"], w["number"])
            for w in self._publish()
        ]
        return exposition(workers, self._board.count)

    def _counted(self) -> dict[str, int]:
        return _added(counters() for counters in self._handler_counters)

    def _publish(self) -> list[dict[str, Any]]:
        """Leave this worker's numbers as they are now on the board (what it reports, a later read
        finds at least as high), and return every worker's, in order."""
        assert self._board is not None and self._sampler is not None
        own = {
            "number": self._worker,
            "pid": os.getpid(),
            "started": round(self._sampler.started, 3),
            "time": round(time.time(), 3),
            "statistics": dataclasses.asdict(self._sampler.statistics()),
            "handlers": self._counted(),
            "rates": self._sampler.latest,
        }
        self._board.publish(self._worker, own)
        workers = []
        for number in range(1, self._board.count + 1):
            worker = own if number == self._worker else self._board.read(number)
            if worker is not None:  # None: it has left nothing yet
                workers.append(worker)
        return workers

    def _whole_point(self, own: Point) -> Point:
        """The whole server's history point: this worker's ``own`` and the others' latest."""
        points = [worker["rates"] for worker in self._publish() if worker["rates"] is not None]
        return combined_rates(points, own["time"])
