"""The live status page and its JSON, over real sockets and in headless Chromium."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers.static.staticfiles import StaticFiles
from handlers.status.statuspage import StatusPage, combined, combined_rates, rates, statistics_from
from reactor.loop.eventloop import LoopStatistics
from reactor.server import ServerStatistics
from tests.conftest import LiveServer
from tests.handlers.test_metrics import check_metrics, samples
from tests.integration.browser import dump_dom
from tests.integration.client import RawClient, request, wait_until


def statistics(requests: int, sent: int, iterations: int, select: float, busy: float) -> ServerStatistics:
    loop = LoopStatistics(iterations, select, busy, 0, 0, 1, 0, 0)
    return ServerStatistics(3, {"reading": 3}, 0, 5, requests, {}, 0, sent, 10, 7, {}, {}, loop)


def test_rates_are_changes_per_second_and_gauges_are_current() -> None:
    point = rates(statistics(100, 1000, 50, 1.0, 1.0), statistics(300, 5000, 150, 1.5, 3.0), 2.0, 1e9)
    assert point["requests"] == 100 and point["bytes_sent"] == 2000 and point["iterations"] == 50
    assert point["select_share"] == pytest.approx(0.5 / 2.5)
    assert point["connections"] == 3 and point["queued"] == 10


def test_several_reactors_add_up_to_one_server() -> None:
    one = statistics_from(dataclasses.asdict(statistics(100, 1000, 50, 1.0, 2.0)))  # through JSON and back
    two = dataclasses.replace(
        statistics(30, 500, 10, 0.5, 0.25), largest_queue=9, closes={"peer closed": 2}, responses={"GET": {"2xx": 3}}
    )
    whole = combined([one, two])
    assert whole.requests == 130 and whole.bytes_sent == 1500 and whole.connections == 6
    assert whole.by_state == {"reading": 6} and whole.closes == {"peer closed": 2}
    assert whole.responses == {"GET": {"2xx": 3}}
    assert whole.largest_queue == 9 and whole.queued == 20
    assert whole.loop.iterations == 60 and whole.loop.select_seconds == 1.5 and whole.loop.busy_seconds == 2.25


def test_several_reactors_rates_add_up_but_the_share_in_select_is_their_mean() -> None:
    first = rates(statistics(0, 0, 0, 0.0, 0.0), statistics(100, 1000, 50, 0.9, 0.1), 1.0, 1e9)
    second = rates(statistics(0, 0, 0, 0.0, 0.0), statistics(300, 3000, 70, 0.5, 0.5), 1.0, 1e9)
    whole = combined_rates([first, second], 2e9)
    assert whole["requests"] == 400 and whole["bytes_sent"] == 4000 and whole["iterations"] == 120
    assert whole["connections"] == 6 and whole["largest_queue"] == 7 and whole["time"] == 2e9
    assert whole["select_share"] == pytest.approx((0.9 + 0.5) / 2)


class Watched:
    def __init__(self, docroot: Path) -> None:
        self.page = StatusPage("/-/status", StaticFiles(str(docroot)))
        self.live = LiveServer(self.page)
        self.live.call(lambda: self.page.watch(self.live.loop, self.live.server.statistics, interval=0.1))

    def json(self) -> dict[str, object]:
        response = request(self.live.port, b"GET /-/status.json HTTP/1.1\r\nHost: t\r\n\r\n")
        assert response.status == 200 and response.header("Content-Type") == "application/json"
        document = json.loads(response.body)
        assert isinstance(document, dict)
        return document


@pytest.fixture
def watched(docroot: Path) -> Iterator[Watched]:
    watched = Watched(docroot)
    yield watched
    watched.live.stop()


def load(port: int, stop: threading.Event) -> None:
    with RawClient(port) as client:
        while not stop.is_set():
            client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            client.read_response()


def test_the_json_shows_statistics_rates_and_history(watched: Watched) -> None:
    first = watched.json()
    for _ in range(20):
        assert request(watched.live.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
    assert wait_until(lambda: len(watched.json()["history"]) >= 2)  # type: ignore[arg-type]
    later = watched.json()
    stats, before = later["statistics"], first["statistics"]
    assert isinstance(stats, dict) and isinstance(before, dict)
    assert stats["requests"] >= before["requests"] + 20
    assert set(stats["loop"]) >= {"iterations", "select_seconds", "busy_seconds", "timers"}
    rate = later["rates"]
    assert isinstance(rate, dict) and set(rate) >= {"requests", "bytes_sent", "iterations", "select_share"}


def test_the_page_declares_a_strict_policy_and_loads_its_style_and_script_from_the_server(watched: Watched) -> None:
    page = request(watched.live.port, b"GET /-/status HTTP/1.1\r\nHost: t\r\n\r\n")
    assert page.header("Content-Security-Policy") == "default-src 'self'"
    text = page.body.decode()
    assert "<style" not in text and "<script>" not in text, "nothing inline"
    for asset, kind in (("/-/status.css", "text/css"), ("/-/status.js", "text/javascript")):
        assert f'"{asset}"' in text
        response = request(watched.live.port, f"GET {asset} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        assert response.status == 200 and response.header("Content-Type") == f"{kind}; charset=utf-8"


def test_a_single_reactor_says_it_is_no_worker(watched: Watched) -> None:
    document = watched.json()
    assert document["worker"] is None and document["workers"] == [] and document["handlers"] == {}


def test_the_metrics_pass_promtool_and_move_as_requests_are_made(watched: Watched) -> None:
    def metrics() -> dict[str, float]:
        response = request(watched.live.port, b"GET /-/status/metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        assert response.status == 200
        assert response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
        text = response.body.decode()
        check_metrics(text)
        return samples(text)

    before = metrics()
    for _ in range(5):
        assert request(watched.live.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
    assert request(watched.live.port, b"HEAD /missing HTTP/1.1\r\nHost: t\r\n\r\n", "HEAD").status == 404
    assert request(watched.live.port, b"GET /oops HTTP/1.1\r\nBad Header: x\r\n\r\n").status == 400
    after = metrics()
    ok = 'reactor_requests_total{method="GET",status="2xx"}'
    assert ok not in before  # nothing had ended when the first /metrics was written
    assert after[ok] == 6  # the five, and that /metrics
    assert after['reactor_requests_total{method="HEAD",status="4xx"}'] == 1
    assert after['reactor_requests_total{method="none",status="4xx"}'] == 1  # the 400: no head could be read
    assert after["reactor_connections_accepted_total"] == before["reactor_connections_accepted_total"] + 8
    assert after["reactor_sent_bytes_total"] > before["reactor_sent_bytes_total"] + 5 * len(b"hello world\n")
    assert after["reactor_received_bytes_total"] > before["reactor_received_bytes_total"]
    assert after["reactor_loop_iterations_total"] > before["reactor_loop_iterations_total"]
    assert after['reactor_connections{state="reading"}'] >= 1  # this very request's connection
    # The 400's connection lingers until the client's end arrives, then closes for its reason.
    assert wait_until(lambda: metrics().get('reactor_connections_closed_total{reason="protocol error"}') == 1)
    head = request(watched.live.port, b"HEAD /-/status/metrics HTTP/1.1\r\nHost: t\r\n\r\n", "HEAD")
    assert head.status == 200 and head.body == b""


def test_other_paths_go_to_the_wrapped_handler(watched: Watched) -> None:
    assert request(watched.live.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello world\n"
    assert request(watched.live.port, b"POST /-/status HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n").status == 405


@pytest.mark.timeout(240)
def test_the_page_loads_and_its_numbers_move_under_load(watched: Watched, tmp_path: Path) -> None:
    stop = threading.Event()
    loader = threading.Thread(target=load, args=(watched.live.port, stop))
    loader.start()
    try:
        dom = dump_dom(f"http://127.0.0.1:{watched.live.port}/-/status", tmp_path / "profile", virtual_time_ms=5000)
    finally:
        stop.set()
        loader.join(10)
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:2000]
    data = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
    assert int(data["polls"]) >= 2, data
    assert int(data["requests"]) > int(data["first-requests"]), "the request counter moved between polls"
    assert re.search(r'id="requests-rate">[0-9,]+<', dom), "a rate is shown"
    assert 'data-points="' in dom and "<polyline" in dom, "the charts are drawn"
