"""``python -m loadtest``: one command from nothing to a load-test report.

It builds the test site, starts ``python -m reactor`` on it in its own process (pinned to a core with
taskset where present; locust then runs on the other cores), runs locust headless for a bounded time
with ``--csv`` and ``--html`` into a results folder, stops the server it started, prints a summary read
from the same CSV files the report is made of, and exits 1 when any request failed or a threshold was
missed. ``--host URL`` loads another server instead (one that serves a site built by
``python -m loadtest.site``). Arguments after ``--`` go to locust unchanged (``--processes 4``, ``--tags``...).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from loadtest import report, servers, shapes
from loadtest.site import Manifest, SiteError, build, fetch_manifest
from reactor.arguments import Parser

PROG = "python -m loadtest"
HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
RESULTS = HERE / "results"
# What locust logs when a process of its own ran above 90 % CPU (local, worker, master's summary).
LOCUST_SATURATED = ("CPU usage above", "CPU usage was too high", "CPU usage threshold was exceeded")
STOP_TIMEOUT = 10  # seconds locust gives running tasks at the end (a 100 MiB download, a slow reader)


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be more than zero")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", help="load this server (http://HOST:PORT) instead of starting ours")
    parser.add_argument("--site", type=Path, default=RESULTS / "site", help="where to build the site (%(default)s)")
    parser.add_argument("--results", type=Path, help="results folder (default: loadtest/results/<time>-<shape>)")
    parser.add_argument("--shape", choices=sorted(shapes.SHAPES), default="constant", help="load shape")
    parser.add_argument("-u", "--users", type=_positive(int), default=20, help="users, or peak users (%(default)s)")
    parser.add_argument("-r", "--spawn-rate", type=_positive(float), default=10.0, help="users started per second")
    parser.add_argument("-t", "--run-time", type=_positive(int), default=60, help="seconds of load (%(default)s)")
    parser.add_argument("--steps", type=_positive(int), default=6, help="steps of the step shape (%(default)s)")
    parser.add_argument("--pace", type=float, help="seconds between task starts of a visitor (soak: 1, else 0)")
    parser.add_argument("--max-p99-ms", type=_positive(float), help="fail when the p99 latency is above this")
    parser.add_argument("--min-rps", type=_positive(float), help="fail when requests/s is below this")
    parser.add_argument("--core", type=int, default=0, help="CPU core for our server (%(default)s)")
    parser.add_argument(
        "--trace", action="store_true", help="run our server with --trace: its trace is RESULTS/server.log"
    )
    parser.add_argument("locust_args", nargs="*", metavar="-- LOCUST_ARG", help="passed to locust as they are")
    return parser


def _check_site(host: str) -> Manifest:
    """The manifest ``host`` serves. Raises SiteError with a hint when there is none."""
    try:
        return fetch_manifest(host, timeout=10)
    except SiteError as error:
        raise SiteError(
            f"{host} does not serve a loadtest site ({error}); build one with "
            f"`python -m loadtest.site DIR` and serve DIR"
        ) from None


def _locust_command(args: argparse.Namespace, host: str, results: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--host",
        host,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.run_time}s",
        "--stop-timeout",
        str(STOP_TIMEOUT),
        "--shape",
        args.shape,
        "--steps",
        str(args.steps),
        "--csv",
        str(results / "locust"),
        "--html",
        str(results / "report.html"),
    ]
    if args.pace is not None:
        command += ["--pace", str(args.pace)]
    extra: list[str] = args.locust_args
    return command + extra


def _run_locust(command: list[str], log_path: Path, timeout: float) -> int:
    """Run locust to the end, or stop it (its whole process group: --processes forks) after ``timeout``."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"{PROG}: locust overran its time; stopping it", file=sys.stderr)
            return servers.stop_group(process, signal.SIGTERM, STOP_TIMEOUT)
        except KeyboardInterrupt:
            # The Ctrl-C reached only our session: pass it on, locust writes its report on the way out.
            return servers.stop_group(process, signal.SIGINT, STOP_TIMEOUT * 3)


def _print_report(
    args: argparse.Namespace, results: Path, locust_code: int, server_problem: str | None, server_cpu: str | None
) -> int:
    try:
        summary = report.read_summary(results / "locust_stats.csv")
    except (OSError, ValueError) as error:
        print(f"{PROG}: locust produced no statistics ({error}); see {results / 'locust.log'}", file=sys.stderr)
        return 1
    print(f"summary: {summary.line()}")
    failures = report.read_failures(results / "locust_failures.csv")
    if failures:
        print("failures:")
        for failure in failures:
            print(f"  {failure.occurrences:>7}  {failure.method} {failure.name}: {failure.error}")
    if args.shape == "step":
        print()
        print(report.step_table(report.read_steps(results / "locust_stats_history.csv")))
        print()
    if server_cpu:
        print(server_cpu)
    log = (results / "locust.log").read_text(errors="replace")
    if any(marker in log for marker in LOCUST_SATURATED):
        print(
            "warning: locust's CPU went above 90 %: the load generator, not the server, may have set the pace; "
            "give locust more cores (-- --processes N) or machines (README, Scale-out)"
        )
    print(f"report: {results / 'report.html'}  (CSV: {results / 'locust_stats.csv'} and beside it)")
    problems = report.threshold_problems(summary, args.max_p99_ms, args.min_rps)
    if locust_code not in (0, 1):  # 1 is locust's own "some request failed"
        problems.append(f"locust exited with code {locust_code}; see {results / 'locust.log'}")
    if server_problem:
        problems.append(server_problem)
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    results = args.results or RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}-{args.shape}"
    results.mkdir(parents=True, exist_ok=True)
    server = None
    server_problem = server_cpu = None
    try:
        if args.host is None:
            manifest, written = build(args.site)
            print(f"site: {args.site} ({len(manifest.files)} files, {'built' if written else 'up to date'})")
            port = servers.free_port()
            command = servers.reactor_command(args.site.resolve(), port, *(["--trace"] if args.trace else []))
            server = servers.start("reactor", command, port, str(args.core), results / "server.log")
            host = f"http://127.0.0.1:{port}"
            locust_cores = servers.other_cores(args.core)
            print(f"server: pid {server.pid} on {host}, core {args.core}; locust on cores {locust_cores or 'any'}")
        else:
            host = args.host.rstrip("/")
            _check_site(host)
            locust_cores = None
            print(f"server: {host} (not started by us)")
        command = servers.pinned(_locust_command(args, host, results), locust_cores)
        print(f"locust: {args.shape} shape, {args.users} users, {args.run_time} s (log: {results / 'locust.log'})")
        started, cpu_before = time.monotonic(), server.cpu_seconds() if server else 0.0
        code = _run_locust(command, results / "locust.log", args.run_time + 3 * STOP_TIMEOUT + 60)
        if server is not None and server.process.poll() is None:
            busy, elapsed = server.cpu_seconds() - cpu_before, time.monotonic() - started
            server_cpu = (
                f"server CPU: {busy:.1f} s in {elapsed:.0f} s of locust ({100 * busy / elapsed:.0f} % of a core)"
            )
    except (SiteError, servers.ServerError, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            if server.process.poll() is not None:
                server_problem = (
                    f"the server exited during the run (code {server.process.returncode}): {server.log_tail()}"
                )
            server.stop()
    return _print_report(args, results, code, server_problem, server_cpu)


if __name__ == "__main__":
    sys.exit(main())
