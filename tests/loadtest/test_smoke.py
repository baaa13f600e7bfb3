"""``python -m loadtest`` end to end, as the README runs it: a short load on our server with every
scenario, and the same scenarios against ``python -m http.server``, which lacks ETags and ranges.

locust runs in a subprocess (it monkey-patches the standard library with gevent): nothing here imports it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from loadtest import report, servers

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = {
    "page",
    "page asset",
    "revalidate (304)",
    "range (206)",
    "download (interrupted)",
    "download 100 MiB",
    "listing (1,000 files)",
    "missing (404)",
    "Connection: close",
    "slow reader",
    "slow sender",
}
SUMMARY = re.compile(
    r"^summary: (\d+) requests, (\d+) failed \([\d.]+ %\), ([\d.]+) requests/s, "
    r"p50 ([\d.]+) ms, p95 ([\d.]+) ms, p99 ([\d.]+) ms$",
    re.MULTILINE,
)

pytestmark = pytest.mark.timeout(150)  # each module fixture runs locust for 10-15 s, plus start and stop
if importlib.util.find_spec("locust") is None:
    pytest.skip("locust is not installed: it needs Python 3.11 or newer (setup.cfg)", allow_module_level=True)


@dataclass(frozen=True)
class Run:
    completed: subprocess.CompletedProcess[str]
    results: Path

    @property
    def names(self) -> dict[str, tuple[int, int]]:
        return report.read_names(self.results / "locust_stats.csv")

    def html_report(self) -> dict[str, Any]:
        """The statistics locust embedded in its HTML report (window.templateArgs)."""
        html = (self.results / "report.html").read_text()
        marker = "window.templateArgs = "
        data, _end = json.JSONDecoder().raw_decode(html, html.index(marker) + len(marker))
        return dict(data)


def run_loadtest(results: Path, *args: str) -> Run:
    completed = subprocess.run(
        [sys.executable, "-m", "loadtest", "--results", str(results), *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(completed, results)


@pytest.fixture(scope="module")
def reactor_run(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    results = tmp_path_factory.mktemp("smoke-reactor")
    return run_loadtest(results, "--site", str(site), "--users", "6", "--spawn-rate", "6", "--run-time", "12")


@pytest.fixture(scope="module")
def http_server_run(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    results = tmp_path_factory.mktemp("smoke-http-server")
    port = servers.free_port()
    server = servers.start("http.server", servers.http_server_command(site, port), port, None, results / "hs.log")
    try:
        yield run_loadtest(results, "--host", f"http://127.0.0.1:{port}", "--users", "6", "--run-time", "8")
    finally:
        server.stop()


def test_every_scenario_ran(reactor_run: Run) -> None:
    assert reactor_run.completed.stdout.startswith("site: "), reactor_run.completed.stderr
    ran = {name for name, (requests, _failures) in reactor_run.names.items() if requests > 0}
    assert ran >= SCENARIOS, f"never ran: {sorted(SCENARIOS - ran)}"


def test_every_request_succeeds_and_the_command_exits_0(reactor_run: Run) -> None:
    failing = {name: failures for name, (_requests, failures) in reactor_run.names.items() if failures}
    assert not failing, report.read_failures(reactor_run.results / "locust_failures.csv")
    assert report.read_summary(reactor_run.results / "locust_stats.csv").failures == 0
    assert "FAIL:" not in reactor_run.completed.stdout
    assert reactor_run.completed.returncode == 0


def test_the_html_report_and_the_csvs_are_written(reactor_run: Run) -> None:
    for name in ("report.html", "locust_stats.csv", "locust_failures.csv", "locust_stats_history.csv", "locust.log"):
        assert (reactor_run.results / name).stat().st_size > 0, name
    assert f"report: {reactor_run.results / 'report.html'}" in reactor_run.completed.stdout


def test_the_printed_summary_is_the_report_s(reactor_run: Run) -> None:
    match = SUMMARY.search(reactor_run.completed.stdout)
    assert match, reactor_run.completed.stdout
    requests, failures, rate, p50, p95, p99 = match.groups()
    data = reactor_run.html_report()
    total = next(entry for entry in data["requests_statistics"] if entry["name"] == "Aggregated")
    times = next(entry for entry in data["response_time_statistics"] if entry["name"] == "Aggregated")
    assert (int(requests), int(failures)) == (total["num_requests"], total["num_failures"])
    assert rate == f"{total['total_rps']:.1f}"
    assert (float(p50), float(p95), float(p99)) == (times["0.5"], times["0.95"], times["0.99"])


def test_the_server_it_started_is_stopped(reactor_run: Run) -> None:
    match = re.search(r"^server: pid (\d+) ", reactor_run.completed.stdout, re.MULTILINE)
    assert match, reactor_run.completed.stdout
    assert not Path(f"/proc/{match.group(1)}").exists()
    assert "exited during the run" not in reactor_run.completed.stdout


def test_http_server_fails_the_range_and_revalidation_tasks_and_the_report_says_so(http_server_run: Run) -> None:
    names = http_server_run.names
    for name in ("range (206)", "revalidate (304)"):
        requests, failures = names[name]
        assert requests > 0 and failures == requests, (name, requests, failures)
    assert http_server_run.completed.returncode == 1
    errors = {entry["name"]: entry["error"] for entry in http_server_run.html_report()["failures_statistics"]}
    assert "expected 206 Partial Content, got 200" in errors["range (206)"]
    assert "no ETag" in errors["revalidate (304)"]
    assert "GET range (206): expected 206 Partial Content, got 200" in http_server_run.completed.stdout


def test_a_threshold_missed_fails_the_command_though_every_request_succeeded(site: Path, tmp_path: Path) -> None:
    """Issue 6: it exits non-zero when a threshold given on the command line is missed. One user doing
    one task for a second (about 5 s in all), asked for a rate no server reaches."""
    args = ("--site", str(site), "--users", "1", "--run-time", "1", "--min-rps", "1000000", "--", "--tags", "404")
    run = run_loadtest(tmp_path, *args)
    assert report.read_summary(run.results / "locust_stats.csv").failures == 0, run.completed.stdout
    problems = re.findall(r"^FAIL: (.*)$", run.completed.stdout, re.MULTILINE)
    assert len(problems) == 1 and re.fullmatch(r"[\d.]+ requests/s is below --min-rps 1e\+06", problems[0]), problems
    assert run.completed.returncode == 1


def test_a_host_that_serves_no_site_is_one_line_and_exit_2(tmp_path: Path) -> None:
    port = servers.free_port()  # nobody listens there
    run = run_loadtest(tmp_path, "--host", f"http://127.0.0.1:{port}", "--run-time", "5")
    assert run.completed.returncode == 2
    assert run.completed.stderr.count("\n") == 1 and "does not serve a loadtest site" in run.completed.stderr


@pytest.mark.parametrize("args", [["--users", "0"], ["--shape", "sine"], ["--run-time", "soon"]])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    run = run_loadtest(tmp_path, *args)
    assert run.completed.returncode == 2
    assert run.completed.stderr.count("\n") == 1
