"""The timeline without a browser: it opens where the connections are, not on a trace that is
mostly the loop waiting, and it says what the lines it skipped were."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reactor.trace import traceview
from reactor.trace.tracelog import parse

# A server traced for two seconds that answered three requests on one connection in 4 ms, with its
# log message and access log on the same stderr, as `python -m reactor --trace 2> FILE` writes them.
TRACE = """\
   0.677926 loop  select waited=0.677718s ready=1 fds=3:R
   0.678121 #1    accept from=127.0.0.1:36536 fd=7
   0.678147 #1    recv bytes=49
   0.678257 #1    request GET /README.md HTTP/1.1
   0.679388 #1    response 200 body=50644
   0.679505 #1    send bytes=50906
   0.679839 loop  select waited=0.000231s ready=1 fds=7:R
   0.679924 #1    request GET /README.md HTTP/1.1
   0.679991 #1    response 200 body=50644
   0.680059 #1    send bytes=50906
   0.680264 #1    request GET /README.md HTTP/1.1
   0.680317 #1    response 200 body=50644
   0.680382 #1    send bytes=50906
   0.681250 loop  select waited=0.000833s ready=1 fds=7:R
   0.681280 #1    recv end of stream
   0.681308 #1    state reading -> closing queued=0
   0.681314 #1    close peer closed
   0.681323 #1    state closing -> closed queued=0
2026-12-06 08:51:49,882 INFO SIGTERM received: finishing responses in flight, then exiting
   2.636730 loop  select waited=1.955407s ready=1 fds=5:R
   2.636900 loop  ran timers=0 callbacks=1
127.0.0.1 - - [06/Dec/2026:08:51:49 +0000] "GET /README.md HTTP/1.1" 200 50644
127.0.0.1 - - [06/Dec/2026:08:51:49 +0000] "GET /README.md HTTP/1.1" 200 50644
127.0.0.1 - - [06/Dec/2026:08:51:49 +0000] "GET /README.md HTTP/1.1" 200 50644
"""


def test_the_chart_opens_on_the_connections_facts_and_keeps_the_rest_for_zooming_out() -> None:
    timeline = parse(TRACE.splitlines())
    start, end = traceview.view(timeline)
    assert 0.6779 < start < 0.678121 and 0.681323 < end < 0.6816  # 3.2 ms and a margin, of 1,959 ms
    chart = traceview.svg(timeline)
    assert f'data-view-start="{start}" data-view-end="{end}"' in chart
    assert f'data-start="{timeline.start}" data-end="{timeline.end}"' in chart  # "everything drawn"
    requests = re.findall(r'<g class="mark request"[^>]*transform="translate\(([\d.]+),', chart)
    assert len(requests) == 3
    xs = [float(x) for x in requests]
    assert xs[-1] - xs[0] > 0.5 * traceview.PLOT  # spread across the chart, not a few pixels of it
    late = re.search(r'<g class="mark ran" data-t="2.6369"[^>]*>', chart)
    assert late and 'style="display:none"' in late[0]  # drawn, and shown once zoomed out to it


def test_a_range_asked_for_is_the_range_shown() -> None:
    timeline = parse(TRACE.splitlines())
    start, end = timeline.start + 0.001, timeline.start + 0.002
    chart = traceview.svg(timeline, start, end)
    assert f'data-view-start="{start}" data-view-end="{end}"' in chart
    assert f'data-start="{start}" data-end="{end}"' in chart


def test_a_trace_without_connections_shows_all_of_it() -> None:
    timeline = parse([line for line in TRACE.splitlines() if " #1 " not in line])
    assert traceview.view(timeline) == (timeline.start, timeline.end)


def test_the_skipped_lines_are_said_for_what_they_are() -> None:
    timeline = parse([*TRACE.splitlines(), "   3.0000", "Traceback (most recent call last):"])
    assert timeline.skipped_summary() == (
        "skipped 6 lines that are not trace lines: 3 access log lines, "
        "1 log message ('INFO SIGTERM received: finishing responses in flight, then exiting'), "
        "2 other lines (first: '3.0000')"
    )
    assert parse(TRACE.splitlines()[:5]).skipped_summary() == ""


def test_the_command_says_what_it_drew_and_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "trace.txt"
    trace.write_text(TRACE)
    assert traceview.main([str(trace), "-o", str(tmp_path / "timeline.html")]) == 0
    drawn, skipped = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r".*timeline\.html: 1 connection, 3 requests; opens on the 3\.\d ms where the connections are, "
        r"of 1959\.0 ms traced",
        drawn,
    )
    assert skipped.startswith("skipped 4 lines that are not trace lines: 3 access log lines, 1 log message")
    page = (tmp_path / "timeline.html").read_text()
    assert "opens on the 3." in page and "3 access log lines" in page
