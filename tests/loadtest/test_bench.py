"""The benchmark's pure parts: wrk's output read back, ratios to the reference, the table, the files.
Nothing here is timed: the benchmark itself is run by hand (see README, "Measured")."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from loadtest import bench, hotpath
from loadtest.bench import Row, Scenario, WrkResult, add_ratios, make_row, parse_wrk, render_table, wrk_command

WRK_404 = """Running 1s test @ http://127.0.0.1:8874/missing/x
  1 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.09ms    1.10ms  10.53ms   82.55%
    Req/Sec     9.84k     2.04k   11.80k    80.00%
  Latency Distribution
     50%    1.65ms
     75%    2.64ms
     90%    3.31ms
     99%    6.19ms
  9845 requests in 1.01s, 2.78MB read
  Non-2xx or 3xx responses: 9845
Requests/sec:   9792.96
Transfer/sec:      2.76MB
"""
WRK_LARGE = """Running 2s test @ http://127.0.0.1:8874/data/100MiB.bin
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   265.65ms  128.76ms 571.75ms   66.67%
    Req/Sec    11.55      6.12    27.00     90.91%
  Latency Distribution
     50%  247.12ms
     75%  349.59ms
     90%  420.26ms
     99%     1.57s
  24 requests in 2.18s, 2.45GB read
  Socket errors: connect 0, read 2, write 0, timeout 3
Requests/sec:     11.00
Transfer/sec:      1.12GB
"""
WRK_PIPELINED_INTO_CLOSES = """Running 2s test @ http://127.0.0.1:8873/data/1KiB.bin
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     1.47k   492.47     1.96k    90.00%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  2920 requests in 2.00s, 3.41MB read
Requests/sec:   1458.90
Transfer/sec:      1.71MB
"""


def test_wrk_output_is_read_with_its_units() -> None:
    result = parse_wrk(WRK_404)
    assert result == WrkResult(
        requests=9845,
        seconds=1.01,
        bytes_read=round(2.78 * 1024**2),
        requests_per_second=9792.96,
        p50_ms=1.65,
        p99_ms=6.19,
        errors=0,
        non_2xx=9845,
    )
    large = parse_wrk(WRK_LARGE)
    assert large.bytes_read == round(2.45 * 1024**3)
    assert large.p50_ms == 247.12 and large.p99_ms == 1570.0
    assert large.errors == 5


def test_a_run_without_latency_samples_has_no_percentiles() -> None:
    result = parse_wrk(WRK_PIPELINED_INTO_CLOSES)
    assert result.p50_ms is None and result.p99_ms is None
    assert result.requests == 2920


def test_output_without_results_is_an_error() -> None:
    with pytest.raises(ValueError, match="unexpected wrk output"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_wrk_commands_carry_connections_headers_and_the_pipeline_script() -> None:
    plain = wrk_command(Scenario("x", "/a", 50), "http://h/a", 10)
    assert plain[:4] == ["wrk", "-t1", "-c50", "-d10s"] and "--latency" in plain and plain[-1] == "http://h/a"
    closing = wrk_command(Scenario("x", "/a", 50, headers=("Connection: close",)), "http://h/a", 10)
    assert closing[closing.index("-H") + 1] == "Connection: close"
    pipelined = wrk_command(Scenario("x", "/a", 50, pipeline=True), "http://h/a", 10)
    assert pipelined[pipelined.index("-s") + 1] == str(bench.PIPELINE_SCRIPT)
    assert pipelined[-3:] == ["http://h/a", "--", str(bench.PIPELINE_DEPTH)]
    assert bench.PIPELINE_SCRIPT.is_file()


def test_the_scenarios_of_issue_5_are_all_there() -> None:
    scenarios = bench.static_suite([]).scenarios
    names = " / ".join(scenario.name for scenario in scenarios)
    for expected in ("1 KiB keep-alive", "64 KiB keep-alive", "100 MiB", "listing", "404", "Connection: close"):
        assert expected in names
    assert any(scenario.pipeline for scenario in scenarios)
    assert {1, 10, 100, 1000} <= {scenario.connections for scenario in scenarios}
    assert bench.suites([])[0].reference == "http.server"


def test_suites_are_chosen_by_name_and_all_means_every_one() -> None:
    assert [suite.name for suite in bench.suites([])] == ["static files", "WSGI"]
    assert [suite.name for suite in bench.suites([], ["idle"])] == ["idle connections"]
    assert len(bench.suites([], ["all"])) == len(bench.SUITES)
    idle = bench.idle_suite().scenarios
    assert max(scenario.idle for scenario in idle) == 10_000 and min(scenario.idle for scenario in idle) == 0
    workers = bench.workers_suite([]).servers
    assert [server.pinned for server in workers] == [True, False], "two workers may use both cores"
    with_nginx = [server.name for server in bench.workers_suite([bench.NGINX]).servers]
    assert with_nginx == ["--workers 1", "--workers 2", "nginx 1 worker", "nginx 2 workers"]


def test_reactor_flags_come_before_the_port() -> None:
    command = bench.reactor_with("--workers", "2")(Path("/srv/site"), 8080)
    assert command[:3] == [sys.executable, "-m", "reactor"]
    assert command[-3:] == ["--workers", "2", "8080"] and "/srv/site" in command


def row(server: str, rps: float, cpu: float, requests: int, scenario: str = "1 KiB") -> Row:
    return Row("static", scenario, server, 50, rps, rps / 1024, 1.0, 2.0, cpu, requests, 0, 0)


def test_ratios_compare_with_the_reference_of_the_same_scenario() -> None:
    rows = [
        row("reactor", 30_000, 2.0, 300_000),
        row("http.server", 3_000, 2.0, 30_000),
        row("reactor", 10, 0.1, 100, scenario="100 MiB"),
        row("nginx", 50, 0.5, 500, scenario="only nginx ran this"),
    ]
    add_ratios(rows, {"static": "http.server"})
    assert rows[0].rps_ratio == pytest.approx(10.0)
    assert rows[0].cpu_ratio == pytest.approx(0.1)  # a tenth of the CPU time per request
    assert rows[1].rps_ratio == pytest.approx(1.0)
    assert rows[2].rps_ratio is None and rows[3].cpu_ratio is None


def test_rows_note_errors_and_unexpected_statuses() -> None:
    suite = bench.static_suite([])
    ok = Scenario("1 KiB", "/a", 50)
    missing = Scenario("404", "/m", 50, expect_status="non-2xx")
    result = parse_wrk(WRK_404)
    assert make_row(suite, ok, "s", result, 1.0).notes == ["9845 non-2xx"]
    assert make_row(suite, missing, "s", result, 1.0).notes == []
    assert make_row(suite, ok, "s", parse_wrk(WRK_LARGE), 1.0).notes == ["5 socket errors"]
    assert make_row(suite, ok, "s", parse_wrk(WRK_PIPELINED_INTO_CLOSES), 1.0).notes == ["no latency samples"]


def test_the_table_puts_each_scenario_s_servers_together(tmp_path: Path) -> None:
    rows = [
        row("reactor", 30_000, 2.0, 300_000),
        row("reactor", 500, 1.0, 5_000, scenario="listing"),
        row("http.server", 3_000, 2.0, 30_000),
        row("http.server", 100, 1.0, 1_000, scenario="listing"),
    ]
    add_ratios(rows, {"static": "http.server"})
    table = render_table(rows, {"static": "http.server"})
    lines = table.splitlines()
    assert lines[0].startswith("| scenario | server | requests/s | MiB/s | p50 ms | p99 ms | CPU s |")
    assert "vs http.server" in lines[0]
    assert [line.split("|")[1:3] for line in lines[2:]] == [
        [" 1 KiB ", " reactor "],
        [" 1 KiB ", " http.server "],
        [" listing ", " reactor "],
        [" listing ", " http.server "],
    ]
    assert "| 30,000 |" in lines[2] and "| 10.00x | 0.10x |" in lines[2]
    assert "user µs/request | system µs/request" in lines[0]
    bench.write_results(rows, table, tmp_path)
    assert (tmp_path / "bench.md").read_text() == table + "\n"
    assert json.loads((tmp_path / "bench.json").read_text())[0]["rps_ratio"] == pytest.approx(10.0)
    assert (tmp_path / "bench.csv").read_text().splitlines()[0].startswith("suite,scenario,server,")


def test_a_peer_is_a_name_and_a_command_with_port_and_docroot() -> None:
    peer = bench._peer("nginx=nginx -p /tmp -g 'daemon off; listen {port};' -c x {docroot}")
    assert peer.name == "nginx"
    assert peer.command(Path("/srv/site"), 8080) == [
        "nginx",
        "-p",
        "/tmp",
        "-g",
        "daemon off; listen 8080;",
        "-c",
        "x",
        "/srv/site",
    ]
    for bad in ("nginx2", "=cmd {port}", "x=cmd without a port"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected nginx, ceiling or NAME="):
            bench._peer(bad)


def test_without_wrk_it_says_so_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("loadtest.bench.shutil.which", lambda name: None)
    assert bench.main(["--quick"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "wrk is not installed" in error and "apt-get install -y wrk" in error


def test_the_hot_path_measure_runs_a_real_request_through() -> None:
    assert 0 < hotpath.microseconds_per_request(requests=200, repeat=1) < 10_000


def test_user_and_system_microseconds_per_request_are_columns_of_every_row() -> None:
    suite = bench.static_suite([])
    made = make_row(suite, Scenario("1 KiB", "/a", 50), "s", parse_wrk(WRK_404), 3.0, system_seconds=1.0)
    assert made.user_seconds == pytest.approx(2.0) and made.system_seconds == pytest.approx(1.0)
    assert made.user_us == pytest.approx(2.0 / made.requests * 1e6)
    line = render_table([made], {})
    assert f"| {made.user_us:.1f} | {made.system_us:.1f} |" in line


def test_the_ceiling_is_a_built_in_peer_that_skips_what_it_does_not_hold() -> None:
    ceiling = bench._peer("ceiling")
    assert ceiling is bench.CEILING
    assert ceiling.command(Path("/srv/site"), 8080)[1:] == ["-m", "loadtest.ceiling", "/srv/site", "8080"]
    assert "100 MiB" in ceiling.skips
