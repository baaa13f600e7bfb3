"""The trace timeline, drawn from a real --trace capture of a pipelining client and a slow reader:
its lanes and marks as parsed, as the browser builds them, and as a screenshot that is not blank."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest

from loadtest.__main__ import build_parser as loadtest_parser
from reactor.trace import traceview
from reactor.trace.tracelog import parse
from tests.integration.browser import dump_dom, screenshot
from tests.integration.client import RawClient, wait_until
from tests.integration.png import pixels
from tests.integration.processes import REPO, ReactorProcess
from tests.tutorial.program import read_response

PIPELINED = 5
BIG = 8 * 2**20


def capture(spawn: Callable[..., ReactorProcess], docroot: Path) -> Path:
    """A trace of two connections: one pipelines PIPELINED requests in one send, the other asks for a
    large file and reads nothing until the server has had to wait for it."""
    (docroot / "big.bin").write_bytes(b"x" * BIG)
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--trace", "0")
    with RawClient(server.port) as client:
        client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n" * PIPELINED)
        assert [client.read_response().status for _ in range(PIPELINED)] == [200] * PIPELINED
    with socket.socket() as slow:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        slow.settimeout(10)
        slow.connect(("127.0.0.1", server.port))
        slow.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wait_until(lambda: "#2    blocked" in server.stderr_path.read_text())
        assert len(read_response(slow, bytearray())[1]) == BIG  # keep-alive: paused until now
    assert wait_until(lambda: "#2    close" in server.stderr_path.read_text())
    assert server.stop() == 0
    return server.stderr_path


@pytest.fixture
def trace(spawn: Callable[..., ReactorProcess], docroot: Path) -> Path:
    return capture(spawn, docroot)


def test_the_trace_reads_back_as_lanes_spans_and_marks(trace: Path) -> None:
    timeline = parse(trace.read_text().splitlines())
    assert [lane.name for lane in timeline.connections] == ["#1", "#2"]
    pipelining, slow = timeline.connections
    assert pipelining.count("request") == pipelining.count("response") == PIPELINED
    assert pipelining.count("send") == 1  # five answers, one send
    assert slow.count("request") == 1 and slow.count("sendfile") >= 2 and slow.count("blocked") >= 1
    assert "writing" in {span.kind for span in slow.spans} and slow.count("pause") == 1  # backpressure
    assert timeline.loop.spans and {"select", "running"} <= {span.kind for span in timeline.loop.spans}
    assert timeline.skipped  # the server's log line on the same stderr


def test_the_page_in_chromium_has_a_lane_per_connection_and_a_mark_per_request(trace: Path, tmp_path: Path) -> None:
    page = tmp_path / "timeline.html"
    assert traceview.main([str(trace), "-o", str(page)]) == 0
    dom = dump_dom(page.as_uri(), tmp_path / "profile")
    assert len(re.findall(r'<g class="lane connection"', dom)) == 2
    assert len(re.findall(r'<g class="mark request"', dom)) == PIPELINED + 1
    assert len(re.findall(r'<g class="mark response"', dom)) == PIPELINED + 1
    assert re.search(r'<g class="mark pause"', dom) and re.search(r'<rect class="span writing"', dom)
    assert len(re.findall(r'<g class="tick"', dom)) >= 4  # the script laid the axis out again
    shot = tmp_path / "timeline.png"
    screenshot(page.as_uri(), tmp_path / "profile", shot, (1280, 400))
    colours = pixels(shot)
    drawn = sum(colours.values()) - colours[b"\xff\xff\xff"]
    assert len(colours) > 20 and drawn > 0.05 * sum(colours.values()), "the screenshot is blank"
    for state in ("reading", "writing"):
        colour = bytes.fromhex(traceview.STATE_COLOURS[state].removeprefix("#"))
        assert colours[colour] > 1000, f"no {state} span in the screenshot"  # its legend swatch has 140


def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert traceview.main([str(tmp_path / "missing.txt")]) == 2
    empty = tmp_path / "empty.txt"
    empty.write_text("not a trace\n")
    assert traceview.main([str(empty)]) == 2
    one = tmp_path / "one.txt"
    one.write_text("   0.100000 loop  select waited=0.100000s ready=0\n")
    assert traceview.main([str(one), "--from", "5", "--to", "1"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and "cannot read" in lines[0] and "no trace lines" in lines[1] and "--to" in lines[2]


def test_the_readme_picture_is_a_timeline_and_the_readme_says_how_it_was_made() -> None:
    picture = REPO / "docs" / "timeline.svg"
    root = ElementTree.parse(picture).getroot()
    groups = root.iter("{http://www.w3.org/2000/svg}g")
    lanes = [group for group in groups if "lane connection" in group.get("class", "")]
    assert len(lanes) >= 3
    readme = (REPO / "README.md").read_text()
    assert "](docs/timeline.svg)" in readme
    assert "python3 -m loadtest -u 3 -t 4 --trace --results /tmp/traced" in readme
    assert "python3 -m reactor.trace.traceview /tmp/traced/server.log" in readme
    assert loadtest_parser().parse_args(["--trace"]).trace
