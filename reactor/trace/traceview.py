"""``python -m reactor.trace.traceview TRACE_FILE -o timeline.html``: a ``--trace`` capture as a picture.

One self-contained HTML page (no external assets) with an inline SVG: a lane per connection with its
I/O states as coloured spans, requests and responses as marks with their bytes, sends, short sends,
sendfile moves and backpressure pauses as ticks; the loop on a lane of its own, select waits apart
from the time spent running callbacks. Hovering shows the trace line behind each shape; dragging
across the chart zooms into that time range (a few lines of inline JS lay the shapes out again).
It opens on the connections' facts, not on the whole trace: a server traced for a minute that
answered three requests spent nearly all of it waiting in ``select``, and the requests would be a
few pixels of the axis ("everything drawn" shows the whole trace). ``--svg FILE`` writes the chart
alone, for a README; ``--from`` / ``--to`` pick the time range drawn. The status page serves the
same page for its last seconds of trace (handlers/status/statuspage.py).
"""

from __future__ import annotations

import argparse
import html
import sys
from collections.abc import Sequence
from pathlib import Path

from reactor.trace.tracelog import Lane, Mark, Span, Timeline, parse

WIDTH = 1200
LABEL = 170  # the lane names' column
PLOT = WIDTH - LABEL - 40  # room on the right for the last tick's label
AXIS = 28  # the time axis above the lanes
LANE = 26

STATE_COLOURS = {
    "handshaking": "#c7e9c0",  # TLS only
    "reading": "#9ecae1",
    "waiting": "#fdd0a2",
    "writing": "#fb6a4a",  # backpressure: not reading
    "closing": "#bcbddc",
    "lingering": "#dadaeb",
    "select": "#e5e5e5",
    "running": "#525252",
}
# Each mark: (path at x=0 within its lane, colour). Ticks above the band are input, below are output.
MARK_SHAPES = {
    "request": ("M-4,0 L4,0 L0,7 Z", "#238b45"),
    "response": ("M-4,26 L4,26 L0,19 Z", "#08519c"),
    "recv": ("M0,4 V12", "#41ab5d"),
    "send": ("M0,14 V22", "#08306b"),
    "sendfile": ("M0,14 V22", "#d94801"),
    "short-send": ("M0,2 V24", "#cb181d"),
    "blocked": ("M-3,10 L3,16 M3,10 L-3,16", "#cb181d"),
    "pause": ("M0,0 V26", "#a50f15"),
    "resume": ("M0,0 V26", "#006d2c"),
    "timeout": ("M-4,9 L4,17 M4,9 L-4,17", "#000000"),
    "error": ("M-4,13 a4,4 0 1,0 8,0 a4,4 0 1,0 -8,0", "#cb181d"),
    "close": ("M0,3 V23", "#000000"),
    "linger": ("M-3,13 H3", "#756bb1"),
    "ran": ("M0,20 V26", "#737373"),
}
LEGEND = [
    *((name, colour, "span") for name, colour in STATE_COLOURS.items()),
    ("request", MARK_SHAPES["request"][1], "mark"),
    ("response", MARK_SHAPES["response"][1], "mark"),
    ("recv", MARK_SHAPES["recv"][1], "mark"),
    ("send", MARK_SHAPES["send"][1], "mark"),
    ("sendfile", MARK_SHAPES["sendfile"][1], "mark"),
    ("short send / would block", MARK_SHAPES["short-send"][1], "mark"),
    ("pause / resume reading", MARK_SHAPES["pause"][1], "mark"),
    ("close", MARK_SHAPES["close"][1], "mark"),
]


class Scale:
    """Seconds to x pixels over the range [start, end]."""

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end if end > start else start + 1e-3
        self.factor = PLOT / (self.end - self.start)

    def x(self, time: float) -> float:
        return LABEL + (time - self.start) * self.factor

    def visible(self, start: float, end: float) -> bool:
        return end >= self.start and start <= self.end


def view(timeline: Timeline) -> tuple[float, float]:
    """Where the chart opens: the first to the last connection fact, with a margin (the whole trace
    when it has no connection)."""
    if timeline.first_event is None or timeline.last_event is None:
        return timeline.start, timeline.end
    margin = max((timeline.last_event - timeline.first_event) * 0.05, 1e-4)
    return max(timeline.first_event - margin, timeline.start), min(timeline.last_event + margin, timeline.end)


def _ticks(start: float, end: float) -> list[float]:
    """About eight round times across [start, end], in the trace's own times (so, relative to its start)."""
    span = max(end - start, 1e-6)
    step = 10 ** len(str(int(span * 1e6 / 8))) / 1e6  # the power of ten above an eighth
    for fraction in (0.1, 0.2, 0.5):
        if span / (step * fraction) <= 10:
            step *= fraction
            break
    first = (start // step + 1) * step
    return [first + index * step for index in range(int((end - first) / step) + 1)]


def _label(time: float, start: float) -> str:
    return f"{(time - start) * 1000:.3f} ms"


def _hidden(shown: bool) -> str:
    return "" if shown else ' style="display:none"'


def _span(span: Span, top: float, scale: Scale) -> str:
    left, right = max(scale.x(span.start), LABEL), min(scale.x(span.end), LABEL + PLOT)
    colour = STATE_COLOURS.get(span.kind, "#bdbdbd")
    return (
        f'<rect class="span {span.kind}" data-s="{span.start}" data-e="{span.end}" x="{left:.2f}" '
        f'y="{top + 7}" width="{max(right - left, 0.5):.2f}" height="{LANE - 14}" fill="{colour}"'
        f"{_hidden(scale.visible(span.start, span.end))}><title>{html.escape(span.text)}</title></rect>"
    )


def _mark(mark: Mark, top: float, scale: Scale) -> str:
    path, colour = MARK_SHAPES.get(mark.kind, ("M0,6 V20", "#636363"))
    return (
        f'<g class="mark {mark.kind}" data-t="{mark.time}" data-y="{top}" '
        f'transform="translate({scale.x(mark.time):.2f},{top})"{_hidden(scale.visible(mark.time, mark.time))}>'
        f'<path d="{path}" stroke="{colour}" fill="{colour}" stroke-width="1.5"/>'
        f"<title>{html.escape(f'{mark.time:.6f} {mark.text}')}</title></g>"
    )


def _lane(lane: Lane, index: int, drawn: Scale, shown: Scale, kind: str) -> str:
    """A lane's shapes within ``drawn``, laid out for ``shown`` (the others hidden until zoomed to)."""
    top = AXIS + index * LANE
    parts = [
        f'<g class="lane {kind}" data-lane="{html.escape(lane.name)}">',
        f'<text x="4" y="{top + 17}" class="name">{html.escape(lane.title or lane.name)}</text>',
        f'<line x1="{LABEL}" x2="{LABEL + PLOT}" y1="{top + LANE - 0.5}" y2="{top + LANE - 0.5}" class="rule"/>',
    ]
    parts += [_span(span, top, shown) for span in lane.spans if drawn.visible(span.start, span.end)]
    parts += [_mark(mark, top, shown) for mark in lane.marks if drawn.visible(mark.time, mark.time)]
    parts.append("</g>")
    return "\n".join(parts)


def svg(timeline: Timeline, start: float | None = None, end: float | None = None, *, legend: bool = False) -> str:
    """The chart: the loop's lane, then one lane per connection, over [start, end] (the whole trace
    by default, shown first where the connections are: ``view``), with a legend row under it if
    asked (the page has its own). Shapes carry their times (data-s, data-e, data-t) so a script can
    lay them out again."""
    drawn = Scale(timeline.start if start is None else start, timeline.end if end is None else end)
    shown = Scale(*view(timeline)) if start is None and end is None else drawn
    lanes = [lane for lane in timeline.connections if _touches(lane, drawn)]
    lanes_bottom = AXIS + (len(lanes) + 1) * LANE + 4
    height = lanes_bottom + (LANE if legend else 0)
    axis = [
        f'<g class="tick" data-t="{tick}" transform="translate({shown.x(tick):.2f},0)">'
        f'<line y1="{AXIS - 6}" y2="{lanes_bottom}"/><text y="{AXIS - 10}">{_label(tick, timeline.start)}</text></g>'
        for tick in (timeline.start + tick for tick in _ticks(shown.start - timeline.start, shown.end - timeline.start))
    ]
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" data-start="{drawn.start}" data-end="{drawn.end}" '
            f'data-view-start="{shown.start}" data-view-end="{shown.end}" '
            f'data-origin="{timeline.start}" font-family="sans-serif" font-size="11">',
            "<style>.tick line{stroke:#d9d9d9}.tick text{text-anchor:middle;fill:#525252}"
            ".rule{stroke:#f0f0f0}.name{fill:#252525}</style>",
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
            f'<g id="axis">{"".join(axis)}</g>',
            _lane(timeline.loop, 0, drawn, shown, "loop"),
            *(_lane(lane, index, drawn, shown, "connection") for index, lane in enumerate(lanes, 1)),
            _svg_legend(lanes_bottom) if legend else "",
            f'<rect id="brush" x="0" y="0" width="0" height="{height}" fill="#3182bd" fill-opacity="0.15"/>',
            "</svg>",
        ]
    )


def _touches(lane: Lane, scale: Scale) -> bool:
    return any(scale.visible(span.start, span.end) for span in lane.spans) or any(
        scale.visible(mark.time, mark.time) for mark in lane.marks
    )


def _svg_legend(top: float) -> str:
    parts, x = ['<g class="legend">'], 4.0
    for name, colour, kind in LEGEND:
        width = 14 if kind == "span" else 3
        parts.append(f'<rect x="{x}" y="{top + 6}" width="{width}" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + width + 4}" y="{top + 15}">{html.escape(name)}</text>')
        x += width + 12 + 6.2 * len(name)
    parts.append("</g>")
    return "".join(parts)


def _legend() -> str:
    items = []
    for name, colour, kind in LEGEND:
        swatch = (
            f'<span class="swatch" style="background:{colour}"></span>'
            if kind == "span"
            else f'<span class="tickmark" style="background:{colour}"></span>'
        )
        items.append(f"<li>{swatch}{html.escape(name)}</li>")
    return f'<ul class="legend">{"".join(items)}</ul>'


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font:14px sans-serif;margin:16px;color:#252525}} h1{{font-size:18px;margin:0 0 4px}}
.summary{{color:#525252;margin:0 0 8px}} .controls{{margin:8px 0}} .controls input{{width:7em}}
.legend{{list-style:none;padding:0;margin:4px 0 8px;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}}
.swatch{{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}}
.tickmark{{display:inline-block;width:3px;height:12px;margin-right:4px;vertical-align:middle}}
#chart{{overflow-x:auto}} svg{{cursor:crosshair;user-select:none}}
</style></head><body>
<h1>{title}</h1>
<p class="summary" id="summary" data-connections="{connections}" data-requests="{requests}">{summary}</p>
<div class="controls">from <input id="from" type="number" step="any"> to <input id="to" type="number" step="any"> ms
<button id="zoom">show</button> <button id="out">zoom out</button> <button id="whole">everything drawn</button>
drag across the chart to zoom in; hover a shape for its trace line</div>
{legend}
<div id="chart">{svg}</div>
<script>
(function () {{
  const svg = document.getElementById("timeline"), LABEL = {label}, PLOT = {plot};
  const origin = +svg.dataset.origin, first = +svg.dataset.start, last = +svg.dataset.end;
  const from = document.getElementById("from"), to = document.getElementById("to");
  let start = +svg.dataset.viewStart, end = +svg.dataset.viewEnd;
  function x(t) {{ return LABEL + (t - start) * PLOT / (end - start); }}
  function layout() {{
    from.value = ((start - origin) * 1000).toFixed(3); to.value = ((end - origin) * 1000).toFixed(3);
    for (const el of svg.querySelectorAll("rect.span")) {{
      const s = +el.dataset.s, e = +el.dataset.e, shown = e >= start && s <= end;
      el.style.display = shown ? "" : "none";
      if (shown) {{
        const left = Math.max(x(s), LABEL), right = Math.min(x(e), LABEL + PLOT);
        el.setAttribute("x", left); el.setAttribute("width", Math.max(right - left, 0.5));
      }}
    }}
    for (const el of svg.querySelectorAll("g.mark")) {{
      const t = +el.dataset.t;
      el.style.display = t >= start && t <= end ? "" : "none";
      el.setAttribute("transform", "translate(" + x(t) + "," + el.dataset.y + ")");
    }}
    const axis = svg.getElementById("axis"), height = svg.getAttribute("height");
    axis.replaceChildren();
    const span = end - start, step0 = Math.pow(10, Math.ceil(Math.log10(span / 8)));
    const step = [0.1, 0.2, 0.5, 1].map(f => f * step0).find(s => span / s <= 10);
    for (let t = origin + Math.ceil((start - origin) / step) * step; t <= end; t += step) {{
      const g = document.createElementNS(svg.namespaceURI, "g");
      g.setAttribute("class", "tick"); g.setAttribute("transform", "translate(" + x(t) + ",0)");
      g.innerHTML = '<line y1="{axis_line}" y2="' + height + '"/><text y="{axis_text}">' +
        ((t - origin) * 1000).toFixed(3) + " ms</text>";
      axis.appendChild(g);
    }}
  }}
  function show(s, e) {{ if (e > s) {{ start = s; end = e; layout(); }} }}
  function time(event) {{
    const box = svg.getBoundingClientRect();
    const px = (event.clientX - box.left) * svg.viewBox.baseVal.width / box.width;
    return start + (Math.min(Math.max(px, LABEL), LABEL + PLOT) - LABEL) * (end - start) / PLOT;
  }}
  const brush = document.getElementById("brush");
  let dragFrom = null;
  svg.addEventListener("mousedown", e => {{ dragFrom = time(e); }});
  svg.addEventListener("mousemove", e => {{
    if (dragFrom === null) return;
    const a = x(dragFrom), b = x(time(e));
    brush.setAttribute("x", Math.min(a, b)); brush.setAttribute("width", Math.abs(b - a));
  }});
  window.addEventListener("mouseup", e => {{
    if (dragFrom === null) return;
    const s = dragFrom, t = time(e); dragFrom = null; brush.setAttribute("width", 0);
    if (Math.abs(x(t) - x(s)) > 3) show(Math.min(s, t), Math.max(s, t));
  }});
  document.getElementById("zoom").onclick = () => show(origin + from.value / 1000, origin + to.value / 1000);
  document.getElementById("out").onclick = () => {{
    const half = end - start; show(Math.max(first, start - half / 2), Math.min(last, end + half / 2));
  }};
  document.getElementById("whole").onclick = () => show(first, last);
  layout();
}})();
</script></body></html>
"""


def page(timeline: Timeline, title: str, start: float | None = None, end: float | None = None) -> str:
    """The whole HTML page for ``timeline``: summary, zoom controls, legend and chart."""
    connections = len(timeline.connections)
    requests = timeline.requests()
    seconds = timeline.end - timeline.start
    iterations = len([span for span in timeline.loop.spans if span.kind == "select"])
    summary = (
        f"{connections} connection{'s' * (connections != 1)}, {requests} request{'s' * (requests != 1)}, "
        f"{iterations} loop iterations over {seconds * 1000:.3f} ms"
        + (
            f"; opens on {_shown(timeline, start, end)} (everything drawn shows all)"
            if start is None and end is None
            else ""
        )
        + (f"; {timeline.skipped_summary()}" if timeline.skipped else "")
    )
    return PAGE.format(
        title=html.escape(title),
        summary=html.escape(summary),
        connections=connections,
        requests=requests,
        legend=_legend(),
        svg=svg(timeline, start, end),
        label=LABEL,
        plot=PLOT,
        axis_line=AXIS - 6,
        axis_text=AXIS - 10,
    )


def _shown(timeline: Timeline, start: float | None, end: float | None) -> str:
    """Which part of the trace the chart opens on, in words."""
    if start is not None or end is not None:
        first = timeline.start if start is None else start
        last = timeline.end if end is None else end
        return f"{_label(first, timeline.start)} to {_label(last, timeline.start)}"
    first, last = view(timeline)
    where = " where the connections are" if timeline.first_event is not None else ""
    return f"the {(last - first) * 1000:.1f} ms{where}, of {(timeline.end - timeline.start) * 1000:.1f} ms traced"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reactor.trace.traceview",
        description="Draw a --trace capture as a timeline: one HTML page with an inline SVG.",
    )
    parser.add_argument("trace", type=Path, help="a file of --trace lines (python -m reactor --trace ... 2> FILE)")
    parser.add_argument("-o", "--output", type=Path, help="the HTML page to write (default: TRACE.html)")
    parser.add_argument("--svg", type=Path, metavar="FILE", help="also write the chart alone as an SVG file")
    parser.add_argument("--from", dest="start", type=float, metavar="MS", help="draw from this time (ms, as shown)")
    parser.add_argument("--to", dest="end", type=float, metavar="MS", help="draw up to this time (ms, as shown)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with args.trace.open(encoding="utf-8", errors="replace") as lines:
            timeline = parse(lines)
    except OSError as error:
        print(f"cannot read {args.trace}: {error.strerror or error}", file=sys.stderr)
        return 2
    if not timeline.connections and not timeline.loop.spans:
        print(f"{args.trace}: no trace lines (make one with: python -m reactor --trace ... 2> FILE)", file=sys.stderr)
        return 2
    start = None if args.start is None else timeline.start + args.start / 1000
    end = None if args.end is None else timeline.start + args.end / 1000
    if start is not None and end is not None and end <= start:
        print("--to must be later than --from", file=sys.stderr)
        return 2
    output = args.output or args.trace.with_suffix(".html")
    try:
        output.write_text(page(timeline, f"reactor trace: {args.trace.name}", start, end), encoding="utf-8")
        if args.svg is not None:
            args.svg.write_text(svg(timeline, start, end, legend=True) + "\n", encoding="utf-8")
    except OSError as error:
        print(f"cannot write: {error}", file=sys.stderr)
        return 2
    connections, requests = len(timeline.connections), timeline.requests()
    print(
        f"{output}: {connections} connection{'s' * (connections != 1)}, {requests} request{'s' * (requests != 1)}; "
        f"opens on {_shown(timeline, start, end)}"
    )
    if timeline.skipped:
        print(timeline.skipped_summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
