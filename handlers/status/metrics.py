"""The status numbers in Prometheus' text exposition format (version 0.0.4), served at ``PATH/metrics``.

``exposition`` writes one family per number of ``ServerStatistics`` and of the handlers' counters:
totals since start as counters (``_total``), what holds now as gauges, in base units (``_bytes``,
``_seconds``). A server of several workers (``--workers``) shows each worker's numbers under a
``worker`` label, as Prometheus wants them: each worker's counters start at zero when it is
restarted, which ``rate()`` understands per series, and ``sum without (worker)`` adds them up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from reactor.net.iostate import IOState
from reactor.server import ServerStatistics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]

# Every family, in the order written: name -> (type, help).
FAMILIES: dict[str, tuple[str, str]] = {
    "reactor_requests_total": (
        "counter",
        'Responses that ended, by request method ("other": not a standard method; "none": no request head '
        'could be read) and status class ("2xx").',
    ),
    "reactor_received_bytes_total": ("counter", "Bytes received from clients."),
    "reactor_sent_bytes_total": ("counter", "Bytes sent to clients."),
    "reactor_connections_accepted_total": ("counter", "Connections accepted."),
    "reactor_connections_closed_total": ("counter", "Connections closed, by reason."),
    "reactor_connections": ("gauge", "Open connections, by I/O state."),
    "reactor_event_streams": (
        "gauge",
        "Open connections sending a long-lived response (--live-reload's event streams).",
    ),
    "reactor_send_queue_bytes": ("gauge", "Response bytes waiting in send queues, all connections together."),
    "reactor_send_queue_largest_bytes": ("gauge", "The most response bytes any one connection has waiting."),
    "reactor_loop_iterations_total": ("counter", "Passes through the event loop."),
    "reactor_loop_select_seconds_total": ("counter", "Time the event loop spent waiting in select."),
    "reactor_loop_busy_seconds_total": ("counter", "Time the event loop spent running callbacks."),
    "reactor_loop_timers": ("gauge", "Entries in the timer heap, cancelled ones not yet dropped included."),
    "reactor_tls_handshake_failures_total": ("counter", "TLS handshakes that failed, by the TLS library's reason."),
    "reactor_start_time_seconds": ("gauge", "When the reactor started, in seconds since the epoch."),
    "reactor_workers": ("gauge", "Reactor processes serving the port (--workers)."),
}

# What handlers count beside the server, by the name they report it under (StatusPage.watch's
# ``handler_counters``): the family it becomes, its type and help. (The event streams are a server
# number: reactor_event_streams.)
HANDLER_METRICS: dict[str, tuple[str, str, str]] = {
    "auth_failures": (
        "reactor_auth_failures_total",
        "counter",
        "Requests refused for credentials that did not verify (--auth-file): a wrong user or password, or "
        "a malformed Authorization field.",
    ),
    "proxied_requests": ("reactor_proxied_requests_total", "counter", "Requests given to a --proxy backend."),
    "proxy_failures": (
        "reactor_proxy_failures_total",
        "counter",
        "Proxied requests the proxy answered itself (502, 504) or cut short, for the backend's fault.",
    ),
}

_HANDLER_FAMILIES = frozenset(name for name, _, _ in HANDLER_METRICS.values())
# The states an open connection can be in: each is written, zero or not, so a series never vanishes.
_OPEN_STATES = tuple(state.value for state in IOState if state is not IOState.CLOSED)


@dataclass(frozen=True)
class ReactorNumbers:
    """One reactor's numbers: a whole server's, or one worker's of several (``worker``, its number)."""

    statistics: ServerStatistics
    handlers: Mapping[str, int]  # what the handlers count, by the names of HANDLER_METRICS
    started: float  # when it started, seconds since the epoch
    worker: int | None = None


def exposition(reactors: Sequence[ReactorNumbers], workers: int = 1) -> str:
    """The exposition of ``reactors`` (one, or each worker of a server of ``workers``)."""
    families = {**FAMILIES, **{name: (kind, text) for name, kind, text in HANDLER_METRICS.values()}}
    samples: dict[str, list[str]] = {name: [] for name in families}
    samples["reactor_workers"].append(_sample("reactor_workers", (), workers))
    for reactor in reactors:
        own: Labels = () if reactor.worker is None else (("worker", str(reactor.worker)),)
        for name, labels, value in _numbers(reactor):
            samples[name].append(_sample(name, labels + own, value))
    lines = []
    for name, (kind, text) in families.items():
        if name in _HANDLER_FAMILIES and not samples[name]:
            continue  # the handler that counts it is not in this server
        lines += [f"# HELP {name} {_escape_help(text)}", f"# TYPE {name} {kind}", *samples[name]]
    return "\n".join(lines) + "\n"


def _numbers(reactor: ReactorNumbers) -> Iterator[tuple[str, Labels, float]]:
    statistics = reactor.statistics
    for method, classes in sorted(statistics.responses.items()):
        for status_class, count in sorted(classes.items()):
            yield "reactor_requests_total", (("method", method), ("status", status_class)), count
    yield "reactor_received_bytes_total", (), statistics.bytes_received
    yield "reactor_sent_bytes_total", (), statistics.bytes_sent
    yield "reactor_connections_accepted_total", (), statistics.accepted
    for reason, count in sorted(statistics.closes.items()):
        yield "reactor_connections_closed_total", (("reason", reason),), count
    for state in _OPEN_STATES:
        yield "reactor_connections", (("state", state),), statistics.by_state.get(state, 0)
    yield "reactor_event_streams", (), statistics.streams
    yield "reactor_send_queue_bytes", (), statistics.queued
    yield "reactor_send_queue_largest_bytes", (), statistics.largest_queue
    loop = statistics.loop
    yield "reactor_loop_iterations_total", (), loop.iterations
    yield "reactor_loop_select_seconds_total", (), loop.select_seconds
    yield "reactor_loop_busy_seconds_total", (), loop.busy_seconds
    yield "reactor_loop_timers", (), loop.timers
    for reason, count in sorted(statistics.tls_handshake_failures.items()):
        yield "reactor_tls_handshake_failures_total", (("reason", reason),), count
    yield "reactor_start_time_seconds", (), reactor.started
    for counter, value in sorted(reactor.handlers.items()):
        name = HANDLER_METRICS[counter][0]
        yield name, (), value


def _sample(name: str, labels: Labels, value: float) -> str:
    if labels:
        name += "{" + ",".join(f'{label}="{_escape_label(text)}"' for label, text in labels) + "}"
    return f"{name} {value!r}" if isinstance(value, float) else f"{name} {value}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")
