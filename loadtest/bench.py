"""``python -m loadtest.bench``: our server and its peers side by side under wrk, in one run.

Each server serves the test site of ``loadtest.site`` pinned to core 0 (taskset, where present) while
``wrk -t1`` runs pinned to core 1; every scenario runs against every server in turn. It prints one
markdown table (requests/s, MiB/s, p50/p99, the server's CPU time, ratios to the reference server) and
writes it with CSV and JSON beside it. About 5 minutes; ``--quick`` about 1.

    python -m loadtest.bench [--quick] [--peer nginx] [--peer ceiling] [--peer NAME='CMD {port} {docroot}']

``--peer nginx`` starts nginx from a generated configuration (loadtest/nginx.py: 1 worker, sendfile,
access log off, gzip for text). ``--peer ceiling`` starts loadtest/ceiling.py: a bare selectors loop of
our own that answers cached bytes, one recv and one send a read, parsing only a head's end and its
target, the floor of what CPython pays per request on the machine at hand. Every row gives the server's
user and system CPU microseconds per request, so nginx, the ceiling and reactor stand side by side.
The tls suite serves HTTPS with a certificate it makes with openssl (loadtest/certificate.py) and
compares with nginx ``ssl`` when nginx is installed, and with Twisted when it is (the load extra
installs it).

Rows are data: a Suite is a set of servers, the scenarios they all run and the one to compare with.
Add a scenario to a suite's list, or a Suite to SUITES, and it is measured, tabulated and saved.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import loadtest.nginx
from loadtest import certificate, idle, servers
from loadtest.site import COMPRESSIBLE, LARGE, LISTING, MISSING, SiteError, build
from reactor.arguments import Parser

PROG = "python -m loadtest.bench"
HERE = Path(__file__).resolve().parent
PIPELINE_SCRIPT = HERE / "pipeline.lua"
PIPELINE_DEPTH = 16
SERVER_CORE = 0
CLIENT_CORE = 1
FULL_SECONDS = 10  # per scenario and server: 2 servers x 11 scenarios x 10 s is about 4 minutes
QUICK_SECONDS = 2
WRK_TIMEOUT = "5s"  # a response slower than this counts as a wrk timeout error
MiB = 1024 * 1024

Command = Callable[[Path, int], list[str]]  # (docroot, port) -> argv


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    connections: int
    headers: tuple[str, ...] = ()
    pipeline: bool = False  # send PIPELINE_DEPTH requests per write (pipeline.lua)
    expect_status: str = "2xx"  # "non-2xx" when every answer should be an error (the 404 row)
    idle: int = 0  # keep-alive connections opened, used once and held silent while wrk runs


@dataclass(frozen=True)
class Server:
    name: str
    command: Command
    pinned: bool = True  # on the server core; False lets several worker processes use every core
    scheme: str = "http"  # "https": it speaks TLS, and wrk too
    skips: tuple[str, ...] = ()  # scenarios it does not serve (the ceiling keeps no 100 MiB file in memory)


@dataclass(frozen=True)
class Suite:
    name: str
    servers: list[Server]
    reference: str  # the server every ratio compares with
    scenarios: list[Scenario]
    # What the servers need beside them, each on its port (the proxy suite's backend): started first
    # on wrk's core, stopped last, never measured.
    backends: tuple[tuple[Server, int], ...] = ()


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    bytes_read: int
    requests_per_second: float
    p50_ms: float | None  # None when wrk recorded no latency (pipelining into a server that closes)
    p99_ms: float | None
    errors: int  # socket errors (connect, read, write, timeout)
    non_2xx: int


@dataclass
class Row:
    suite: str
    scenario: str
    server: str
    connections: int
    requests_per_second: float
    mib_per_second: float
    p50_ms: float | None
    p99_ms: float | None
    cpu_seconds: float  # the server's user + system CPU time during the scenario
    requests: int
    errors: int
    non_2xx: int
    rps_ratio: float | None = None  # requests/s divided by the reference's
    cpu_ratio: float | None = None  # CPU time per request divided by the reference's
    notes: list[str] = field(default_factory=list)
    user_seconds: float = 0.0  # the server's user CPU time during the scenario (part of cpu_seconds)
    system_seconds: float = 0.0  # and its system CPU time

    @property
    def user_us(self) -> float | None:
        """User CPU microseconds per request."""
        return self.user_seconds / self.requests * 1e6 if self.requests else None

    @property
    def system_us(self) -> float | None:
        """System CPU microseconds per request."""
        return self.system_seconds / self.requests * 1e6 if self.requests else None


ONE_KIB = "/data/1KiB.bin"
STATIC_SCENARIOS = [
    Scenario("1 KiB keep-alive", ONE_KIB, 50),
    Scenario("64 KiB keep-alive", "/data/64KiB.bin", 50),
    # Text gzipped on the fly (ours once per version, off the loop); a peer without gzip sends it whole.
    Scenario("64 KiB text, Accept-Encoding: gzip", COMPRESSIBLE, 50, headers=("Accept-Encoding: gzip",)),
    Scenario("100 MiB", LARGE, 4),
    Scenario("listing, 1,000 entries", LISTING, 50),
    Scenario("404", MISSING + "nothing.html", 50, expect_status="non-2xx"),
    Scenario("1 KiB Connection: close", ONE_KIB, 50, headers=("Connection: close",)),
    Scenario(f"1 KiB pipelined x{PIPELINE_DEPTH}", ONE_KIB, 50, pipeline=True),
    *[Scenario(f"1 KiB, {count} connections", ONE_KIB, count) for count in (1, 10, 100, 1000)],
]
REACTOR = Server("reactor", servers.reactor_command)
HTTP_SERVER = Server("http.server", servers.http_server_command)
NGINX = Server("nginx", loadtest.nginx.command)  # --peer nginx
CEILING = Server("ceiling", servers.ceiling_command, skips=("100 MiB",))  # --peer ceiling


def static_suite(peers: list[Server]) -> Suite:
    return Suite("static files", [REACTOR, HTTP_SERVER, *peers], HTTP_SERVER.name, STATIC_SCENARIOS)


def reactor_with(*flags: str) -> Command:
    """Our server with extra command-line flags."""
    return lambda docroot, port: servers.reactor_command(docroot, port, *flags)


WSGI_APP = "loadtest.wsgiapp:app"  # one short body with its Content-Length (loadtest/wsgiapp.py)


def _waitress(docroot: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", WSGI_APP]


def _gunicorn(docroot: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        WSGI_APP,
    ]


def wsgi_suite() -> Suite:
    """The same minimal application on our gateway (worker threads, and inline) and its peers."""
    peers = [
        Server(name, command)
        for name, command in (("waitress", _waitress), ("gunicorn sync", _gunicorn))
        if importlib.util.find_spec(name.split()[0]) is not None
    ]
    return Suite(
        "WSGI",
        [
            Server("reactor --wsgi", reactor_with("--wsgi", WSGI_APP)),
            Server("reactor --wsgi --threads 0", reactor_with("--wsgi", WSGI_APP, "--threads", "0")),
            *peers,
        ],
        peers[0].name if peers else "reactor --wsgi",
        [Scenario("minimal WSGI app, keep-alive", "/", 50)],
    )


IDLE = 10_000


def idle_suite() -> Suite:
    """10,000 idle keep-alive connections held by one process while 50 others are busy."""
    # The default connection limit assumes each connection may hold a file open too; idle ones do not.
    server = Server("reactor", reactor_with("--max-connections", str(IDLE + 1000)))
    return Suite(
        "idle connections",
        [server],
        server.name,
        [
            Scenario("1 KiB keep-alive, none idle", ONE_KIB, 50),
            Scenario(f"1 KiB keep-alive, {IDLE:,} idle", ONE_KIB, 50, idle=IDLE),
        ],
    )


def selectors_suite() -> Suite:
    """The same reactor on each readiness mechanism; select() is capped below 1,024 descriptors."""
    return Suite(
        "selectors",
        [Server(f"--selector {name}", reactor_with("--selector", name)) for name in ("epoll", "poll", "select")],
        "--selector epoll",
        [
            Scenario("1 KiB keep-alive", ONE_KIB, 50),
            Scenario("1 KiB keep-alive, 400 idle", ONE_KIB, 50, idle=400),
        ],
    )


def workers_suite(peers: list[Server]) -> Suite:
    """One process against two sharing the port (each on any core, wrk on core 1 too); with the nginx
    peer, nginx with one and two worker processes beside them."""
    nginx = (
        [
            Server("nginx 1 worker", NGINX.command),
            Server("nginx 2 workers", partial(loadtest.nginx.command, workers=2), pinned=False),
        ]
        if NGINX in peers
        else []
    )
    return Suite(
        "workers",
        [
            Server("--workers 1", reactor_with("--workers", "1")),
            Server("--workers 2", reactor_with("--workers", "2"), pinned=False),
            *nginx,
        ],
        "--workers 1",
        [
            Scenario("1 KiB keep-alive", ONE_KIB, 50),
            Scenario("1 KiB, Connection: close", ONE_KIB, 50, headers=("Connection: close",)),
        ],
    )


def _tls_files(docroot: Path) -> tuple[Path, Path]:
    """The tls suite's certificate and key, beside the site in the results folder."""
    return certificate.self_signed(docroot.parent / "tls")


def _reactor_tls(docroot: Path, port: int) -> list[str]:
    cert, key = _tls_files(docroot)
    return servers.reactor_command(docroot, port, "--tls-cert", str(cert), "--tls-key", str(key))


def _nginx_tls(docroot: Path, port: int) -> list[str]:
    return loadtest.nginx.command(docroot, port, tls=_tls_files(docroot))


def _twisted_tls(docroot: Path, port: int) -> list[str]:
    cert, key = _tls_files(docroot)
    listen = f"ssl:port={port}:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    return [sys.executable, "-m", "twisted", "--log-level=error", "web", "--listen", listen, "--path", str(docroot)]


def tls_suite() -> Suite:
    """HTTPS: our TLS transport against nginx ``ssl`` (1 worker, the same certificate) and Twisted
    Web's static files with TLS, each when installed. wrk keeps its connections, so these rows
    measure the record layer (encryption and copying), not handshakes."""
    ours = Server("reactor https", _reactor_tls, scheme="https")
    peers = []
    if loadtest.nginx.installed():
        peers.append(Server("nginx https", _nginx_tls, scheme="https"))
    if importlib.util.find_spec("twisted") is not None and importlib.util.find_spec("OpenSSL") is not None:
        peers.append(Server("twisted https", _twisted_tls, scheme="https"))
    return Suite(
        "tls",
        [ours, *peers],
        peers[0].name if peers else ours.name,
        [Scenario("1 KiB keep-alive over TLS", ONE_KIB, 50), Scenario("100 MiB over TLS", LARGE, 4)],
    )


PROXIED = "/data"  # the prefix the proxy suite passes on: the paths of ONE_KIB and ONE_MIB are under it
ONE_MIB = "/data/1MiB.bin"


def proxy_suite() -> Suite:
    """Our --proxy and nginx's proxy_pass (with keep-alive to the upstream) in front of one backend:
    nginx serving the site, beside wrk (our server when nginx is missing; no nginx row then)."""
    port = servers.free_port()
    backend = NGINX if loadtest.nginx.installed() else REACTOR
    ours = Server("reactor --proxy", reactor_with("--proxy", f"{PROXIED}=http://127.0.0.1:{port}"))
    peers = [Server("nginx proxy_pass", partial(loadtest.nginx.command, proxy_to=port))]
    if not loadtest.nginx.installed():
        peers = []
    scenarios = [Scenario("1 KiB through the proxy", ONE_KIB, 50), Scenario("1 MiB through the proxy", ONE_MIB, 10)]
    reference = peers[0].name if peers else ours.name
    return Suite("proxy", [ours, *peers], reference, scenarios, backends=((backend, port),))


SUITES: dict[str, Callable[[list[Server]], Suite]] = {
    "static": static_suite,
    "wsgi": lambda peers: wsgi_suite(),
    "idle": lambda peers: idle_suite(),
    "selectors": lambda peers: selectors_suite(),
    "workers": workers_suite,
    "tls": lambda peers: tls_suite(),
    "proxy": lambda peers: proxy_suite(),
}
DEFAULT_SUITES = ("static", "wsgi")


def suites(peers: list[Server], names: list[str] | None = None) -> list[Suite]:
    """The suites one run measures: ``names`` (``all`` for every one), by default static and WSGI."""
    chosen = list(DEFAULT_SUITES) if not names else list(SUITES) if "all" in names else names
    return [SUITES[name](peers) for name in chosen]


_DURATION_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}  # wrk counts in 1024s


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """The numbers of one ``wrk --latency`` run from its text output. Raises ValueError if absent."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if done is None or rate is None or p50 is None or p99 is None:
        raise ValueError(f"unexpected wrk output: {output.strip()[-300:]!r}")
    # wrk times a pipelined batch once all its responses are in; a server that closes after each
    # response completes no batch, and wrk prints zeros with a "-nan%" spread.
    timed = not re.search(r"Latency\s+0\.00us\s+0\.00us\s+0\.00us\s+-?nan%", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests=int(done.group(1)),
        seconds=_milliseconds(done.group(2) + done.group(3)) / 1e3,
        bytes_read=round(float(done.group(4)) * _SIZE_UNITS[done.group(5)]),
        requests_per_second=float(rate.group(1)),
        p50_ms=_milliseconds(p50.group(1)) if timed else None,
        p99_ms=_milliseconds(p99.group(1)) if timed else None,
        errors=sum(int(count) for count in errors.groups()) if errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def wrk_command(scenario: Scenario, url: str, seconds: int) -> list[str]:
    command = ["wrk", "-t1", f"-c{scenario.connections}", f"-d{seconds}s", "--latency", "--timeout", WRK_TIMEOUT]
    for header in scenario.headers:
        command += ["-H", header]
    if scenario.pipeline:
        return [*command, "-s", str(PIPELINE_SCRIPT), url, "--", str(PIPELINE_DEPTH)]
    return [*command, url]


def make_row(
    suite: Suite, scenario: Scenario, server: str, result: WrkResult, cpu_seconds: float, system_seconds: float = 0.0
) -> Row:
    """The row of one run; ``cpu_seconds`` is user plus system time, ``system_seconds`` the system part."""
    notes = []
    if result.p50_ms is None:
        notes.append("no latency samples")
    if result.errors:
        notes.append(f"{result.errors} socket errors")
    if scenario.expect_status == "2xx" and result.non_2xx:
        notes.append(f"{result.non_2xx} non-2xx")
    if scenario.expect_status == "non-2xx" and result.non_2xx < result.requests:
        notes.append(f"{result.requests - result.non_2xx} unexpected 2xx")
    return Row(
        suite=suite.name,
        scenario=scenario.name,
        server=server,
        connections=scenario.connections,
        requests_per_second=result.requests_per_second,
        mib_per_second=result.bytes_read / MiB / result.seconds if result.seconds else 0.0,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        cpu_seconds=cpu_seconds,
        requests=result.requests,
        errors=result.errors,
        non_2xx=result.non_2xx,
        notes=notes,
        user_seconds=cpu_seconds - system_seconds,
        system_seconds=system_seconds,
    )


def add_ratios(rows: list[Row], reference: dict[str, str]) -> None:
    """Fill each row's ratios against the row of the same suite and scenario served by the suite's
    reference server (``reference``: suite name -> server name). Rows without one keep None."""
    by_key = {(row.suite, row.scenario): row for row in rows if row.server == reference.get(row.suite)}
    for row in rows:
        base = by_key.get((row.suite, row.scenario))
        if base is None:
            continue
        if base.requests_per_second > 0:
            row.rps_ratio = row.requests_per_second / base.requests_per_second
        if base.cpu_seconds > 0 and base.requests > 0 and row.requests > 0:
            row.cpu_ratio = (row.cpu_seconds / row.requests) / (base.cpu_seconds / base.requests)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _us(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render_table(rows: list[Row], reference: dict[str, str]) -> str:
    """One markdown table: a line per scenario and server, the servers of a scenario together, in the
    order they ran."""
    references = ", ".join(sorted(set(reference.values())))
    scenario_order = {key: index for index, key in enumerate(dict.fromkeys((r.suite, r.scenario) for r in rows))}
    server_order = {name: index for index, name in enumerate(dict.fromkeys(row.server for row in rows))}
    rows = sorted(rows, key=lambda row: (scenario_order[row.suite, row.scenario], server_order[row.server]))
    lines = [
        f"| scenario | server | requests/s | MiB/s | p50 ms | p99 ms | CPU s | req/s vs {references} "
        f"| CPU/request vs {references} | user µs/request | system µs/request | notes |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row.scenario} | {row.server} | {row.requests_per_second:,.0f} | {row.mib_per_second:,.1f} "
            f"| {_ms(row.p50_ms)} | {_ms(row.p99_ms)} | {row.cpu_seconds:.2f} | {_ratio(row.rps_ratio)} "
            f"| {_ratio(row.cpu_ratio)} | {_us(row.user_us)} | {_us(row.system_us)} | {'; '.join(row.notes)} |"
        )
    return "\n".join(lines)


def write_results(rows: list[Row], table: str, folder: Path) -> None:
    (folder / "bench.md").write_text(table + "\n")
    records = [{**asdict(row), "user_us": row.user_us, "system_us": row.system_us} for row in rows]
    (folder / "bench.json").write_text(json.dumps(records, indent=1) + "\n")
    with (folder / "bench.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(records[0]) if records else [])
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "notes": "; ".join(record["notes"])})


def _peer(text: str) -> Server:
    """``nginx`` (the built-in peer, loadtest/nginx.py), ``ceiling`` (loadtest/ceiling.py) or
    ``NAME='CMD {port} {docroot}'``."""
    if text == CEILING.name:
        return CEILING
    if text == NGINX.name:
        if not loadtest.nginx.installed():
            raise argparse.ArgumentTypeError(
                "nginx is not installed; on Debian or Ubuntu: apt-get install -y nginx-light"
            )
        return NGINX
    name, separator, template = text.partition("=")
    if not separator or not name.strip() or "{port}" not in template:
        raise argparse.ArgumentTypeError(f"expected nginx, ceiling or NAME='CMD {{port}} {{docroot}}', got {text!r}")
    return Server(name.strip(), partial(servers.peer_command, template))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Our server and its peers side by side under wrk.")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_SECONDS} s per scenario instead of {FULL_SECONDS}"
    )
    parser.add_argument(
        "--peer",
        type=_peer,
        action="append",
        default=[],
        metavar="nginx|ceiling|NAME='CMD {port} {docroot}'",
        help="another server to measure: nginx (a generated configuration), ceiling (a bare selectors loop "
        "answering cached bytes: the floor of CPython), or a command in which {port} and {docroot} are "
        "filled in (repeatable)",
    )
    parser.add_argument(
        "--suite",
        action="append",
        choices=[*SUITES, "all"],
        metavar="NAME",
        help=f"what to measure: {', '.join(SUITES)} or all (repeatable; default: {' and '.join(DEFAULT_SUITES)})",
    )
    parser.add_argument("--site", type=Path, default=HERE / "results" / "site", help="docroot (%(default)s)")
    parser.add_argument("--results", type=Path, help="output folder (default: loadtest/results/bench-<time>)")
    return parser


def _cores() -> tuple[str | None, str | None]:
    """The taskset core lists for the servers and for wrk: 0 and 1 when this machine has both."""
    available = servers.available_cores()
    server = str(SERVER_CORE) if SERVER_CORE in available else None
    client = str(CLIENT_CORE) if CLIENT_CORE in available and server is not None else None
    return server, client


def _raise_file_limit() -> None:
    """1,000 connections need more descriptors than the usual soft limit of 1,024; children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def measure(suite: Suite, docroot: Path, seconds: int, folder: Path) -> list[Row]:
    """Start every server of ``suite``, then run each scenario against each server in turn, and stop
    them. Interleaved so that a change in the machine's speed during the run (a shared host) falls on
    every server of a scenario alike; a server waiting for its turn is idle and costs nothing."""
    server_cores, client_cores = _cores()
    started: list[tuple[Server, int, servers.ServerProcess]] = []
    beside: list[servers.ServerProcess] = []
    rows = []
    try:
        for server, port in suite.backends:
            log = folder / f"backend-{server.name.replace(' ', '_')}.log"
            beside.append(servers.start(server.name, server.command(docroot, port), port, client_cores, log))
        for server in suite.servers:
            port = servers.free_port()
            log = folder / f"{server.name.replace(' ', '_').lstrip('-')}.log"
            cores = server_cores if server.pinned else None
            started.append((server, port, servers.start(server.name, server.command(docroot, port), port, cores, log)))
        for scenario in suite.scenarios:
            for server, port, process in started:
                if scenario.name in server.skips:
                    continue
                row = run_scenario(suite, scenario, server.name, port, process, seconds, client_cores, server.scheme)
                if row is not None:
                    rows.append(row)
    finally:
        for _server, _port, process in started:
            process.stop()
        for process in beside:
            process.stop()
    return rows


def run_scenario(
    suite: Suite,
    scenario: Scenario,
    name: str,
    port: int,
    process: servers.ServerProcess,
    seconds: int,
    client_cores: str | None,
    scheme: str = "http",
) -> Row | None:
    """One wrk run of ``scenario`` against the server on ``port``; None if wrk printed no figures."""
    url = f"{scheme}://127.0.0.1:{port}{scenario.path}"
    command = servers.pinned(wrk_command(scenario, url, seconds), client_cores)
    rss_before = idle.rss_bytes(process.pid)
    held = idle.hold(port, scenario.idle, scenario.path)
    try:
        rss_held = idle.rss_bytes(process.pid)
        user_before, system_before = process.cpu_times()
        completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
        user_after, system_after = process.cpu_times()
        system = system_after - system_before
        cpu = user_after - user_before + system
    finally:
        idle.release(held)
    if process.process.poll() is not None:
        raise servers.ServerError(f"{name} died during {scenario.name!r}: {process.log_tail()}")
    try:
        result = parse_wrk(completed.stdout)
    except ValueError as error:
        print(f"  {scenario.name}: {error} {completed.stderr.strip()}", file=sys.stderr)
        return None
    row = make_row(suite, scenario, name, result, cpu, system)
    if scenario.idle:
        each = (rss_held - rss_before) / scenario.idle / 1024
        row.notes.append(f"{scenario.idle:,} idle held: {each:.1f} KiB of RSS each")
    print(f"  {scenario.name:<30} {name:>26} {row.requests_per_second:>10,.0f} req/s  {cpu:6.2f} s CPU")
    return row


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if shutil.which("wrk") is None:
        print(f"{PROG}: error: wrk is not installed; on Debian or Ubuntu: apt-get install -y wrk", file=sys.stderr)
        return 2
    seconds = QUICK_SECONDS if args.quick else FULL_SECONDS
    folder = args.results or HERE / "results" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        build(args.site)
    except (SiteError, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    _raise_file_limit()
    docroot = args.site.resolve()
    rows: list[Row] = []
    reference = {}
    try:
        for suite in suites(args.peer, args.suite):
            reference[suite.name] = suite.reference
            print(f"{suite.name}: {len(suite.servers)} servers x {len(suite.scenarios)} scenarios x {seconds} s")
            rows += measure(suite, docroot, seconds, folder)
    except (servers.ServerError, OSError, subprocess.TimeoutExpired) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    add_ratios(rows, reference)
    table = render_table(rows, reference)
    write_results(rows, table, folder)
    server_cores, client_cores = _cores()
    print()
    print(table)
    print()
    pinning = f"servers on core {server_cores}, wrk on core {client_cores}" if client_cores else "no pinning"
    print(f"{seconds} s per row, {pinning}; written to {folder}/bench.{{md,csv,json}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
