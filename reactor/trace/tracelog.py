"""``--trace`` output read back: each connection's I/O states as spans of time and what happened to it
as marks, and the loop's select waits and running time, for the timeline (traceview.py).

The reader is lenient: a line that is not a trace line (the access log and log messages share the
server's stderr; a line cut off by a kill) is kept aside and skipped, a fact it does not know is
ignored, and a connection whose start is not in the trace (a ring buffer's window begins mid-life)
starts at its first line, in the state its first transition leaves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

LINE = re.compile(r"\s*(\d+(?:\.\d+)?) (loop|#\d+)\s+(\S+)(?: (.*))?")
ACCESS_LOG = re.compile(r'\S+ \S+ \S+ \[[^\]]*\] "[^"]*" \d{3} \S+')  # reactor/accesslog.py: Common Log Format
LOG_MESSAGE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (.*)")  # the logging module's lines
STATE_CHANGE = re.compile(r"(\w+) -> (\w+)")
NUMBER = re.compile(r"(\w+)=(\d+(?:\.\d+)?)")


@dataclass(frozen=True, slots=True)
class Span:
    start: float
    end: float
    kind: str  # an I/O state ("reading", "writing"...), or "select" / "running" on the loop's lane
    text: str  # what a reader sees on hovering


@dataclass(frozen=True, slots=True)
class Mark:
    time: float
    kind: str  # request, response, recv, send, short-send, sendfile, blocked, pause, resume, timeout, error, close
    text: str


@dataclass
class Lane:
    name: str  # "loop" or "#N"
    title: str = ""  # "#N 127.0.0.1:port" once the accept is seen
    spans: list[Span] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    state: str = ""  # the state the lane is in now, while reading
    since: float = 0.0

    def count(self, kind: str) -> int:
        return sum(1 for mark in self.marks if mark.kind == kind)


@dataclass
class Timeline:
    start: float = 0.0
    end: float = 0.0
    loop: Lane = field(default_factory=lambda: Lane("loop", "loop"))
    connections: list[Lane] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # lines that were not trace lines
    first_event: float | None = None  # the times of the first and last connection facts: where
    last_event: float | None = None  # the requests are, in a trace that is mostly an idle loop

    def requests(self) -> int:
        return sum(lane.count("request") for lane in self.connections)

    def skipped_summary(self) -> str:
        """What the skipped lines were, in a sentence ("" when there were none)."""
        if not self.skipped:
            return ""
        access = sum(1 for line in self.skipped if ACCESS_LOG.match(line))
        messages = [match[1] for line in self.skipped if (match := LOG_MESSAGE.match(line))]
        others = [line for line in self.skipped if not ACCESS_LOG.match(line) and not LOG_MESSAGE.match(line)]
        kinds = [
            _count(access, "access log line", ""),
            _count(len(messages), "log message", messages[0] if messages else ""),
            _count(len(others), "other line", others[0] if others else ""),
        ]
        count = len(self.skipped)
        verb = "is" if count == 1 else "are"
        return f"skipped {_count(count, 'line', '')} that {verb} not trace lines: " + ", ".join(filter(None, kinds))


def _count(number: int, noun: str, example: str) -> str:
    """A count in words, with an example when there is one ("1 log message ('INFO ...')"); "" for none."""
    if not number:
        return ""
    shown = f" ({'first: ' if number > 1 else ''}{example[:80]!r})" if example else ""
    return f"{number} {noun}{'s' * (number != 1)}{shown}"


def _numbers(detail: str) -> dict[str, float]:
    return {key: float(value) for key, value in NUMBER.findall(detail)}


def _mark(fact: str, detail: str) -> tuple[str, str] | None:
    """The mark a connection's fact makes, as (kind, text), or None for facts shown otherwise."""
    numbers = _numbers(detail)
    if fact == "request":
        return "request", detail
    if fact == "response":
        return "response", f"response {detail}"
    if fact == "recv":
        return "recv", f"recv {int(numbers['bytes'])} B" if "bytes" in numbers else f"recv {detail}"
    if fact == "send":
        short = detail.endswith(" short")
        return ("short-send" if short else "send"), f"send {detail}"
    if fact == "sendfile":
        return "sendfile", f"sendfile {detail}"
    if fact == "blocked":
        return "blocked", f"send would block: {detail}"
    if fact == "backpressure":
        return ("pause" if detail.startswith("pause") else "resume"), f"backpressure: {detail}"
    if fact in ("timeout", "error", "close", "linger"):
        return fact, f"{fact} {detail}"
    return None


def parse(lines: Iterable[str]) -> Timeline:
    """The timeline of a trace's lines."""
    timeline = Timeline()
    lanes: dict[str, Lane] = {}
    first = True
    selected_at = -1.0  # when the last select returned
    for raw in lines:
        match = LINE.fullmatch(raw.rstrip("\r\n"))
        if match is None:
            if raw.strip():
                timeline.skipped.append(raw.strip())
            continue
        time, subject, fact, detail = float(match[1]), match[2], match[3], match[4] or ""
        if first:
            timeline.start, first = time, False
        timeline.end = max(timeline.end, time)
        if subject == "loop":
            if fact == "select":
                waited = _numbers(detail).get("waited", 0.0)
                began = max(time - waited, timeline.start)
                if selected_at >= 0:
                    timeline.loop.spans.append(Span(selected_at, began, "running", "running callbacks"))
                timeline.loop.spans.append(Span(began, time, "select", f"select {detail}"))
                selected_at = time
            elif fact == "ran":
                timeline.loop.marks.append(Mark(time, "ran", f"ran {detail}"))
            continue
        if timeline.first_event is None:
            timeline.first_event = time
        timeline.last_event = max(time, timeline.last_event or time)
        lane = lanes.get(subject)
        if lane is None:
            lane = lanes[subject] = Lane(subject, subject, since=time)
            timeline.connections.append(lane)
        if fact == "accept":
            lane.title = f"{subject} {detail.split()[0].removeprefix('from=')}" if detail else subject
            lane.state, lane.since = "reading", time
        elif fact == "state":
            change = STATE_CHANGE.match(detail)
            if change is not None:
                old, new = change[1], change[2]
                lane.state = lane.state or old
                if time > lane.since:  # a zero-length span shows nothing
                    lane.spans.append(Span(lane.since, time, lane.state, f"{lane.state} until {detail}"))
                lane.state, lane.since = new, time
        found = _mark(fact, detail)
        if found is not None:
            lane.marks.append(Mark(time, *found))
    if selected_at >= 0 and timeline.end > selected_at:
        timeline.loop.spans.append(Span(selected_at, timeline.end, "running", "running callbacks"))
    for lane in timeline.connections:
        if lane.state and lane.state != "closed":
            lane.spans.append(Span(lane.since, timeline.end, lane.state, f"{lane.state} at the end of the trace"))
    return timeline
