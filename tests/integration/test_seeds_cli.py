"""The documented commands, run as a user runs them: the examples and ``python -m reactor --wsgi``."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.client import request
from tests.integration.processes import ENV, REPO, ChildProcess, run_module

SEEDS = REPO / "docs" / "seeds.md"


def test_tcp_echo_runs_from_its_command(spawn_module: Callable[..., ChildProcess]) -> None:
    server = spawn_module("examples.tcp_echo", "0")
    assert server.banner.startswith("Serving a TCP line echo on 127.0.0.1 port ")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(b"hello\n")
        assert client.recv(100) == b"hello\n"
    assert server.stop() == 0


def test_timestamp_echo_runs_from_its_command(spawn_module: Callable[..., ChildProcess]) -> None:
    server = spawn_module("examples.timestamp_echo", "0")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(b"data")
        assert re.fullmatch(rb"\[.{24}\] data", client.recv(100))
    assert server.stop() == 0


def test_udp_echo_runs_from_its_command(spawn_module: Callable[..., ChildProcess]) -> None:
    server = spawn_module("examples.udp_echo", "0")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(10)
        client.sendto(b"ping", ("127.0.0.1", server.port))
        assert client.recvfrom(100)[0] == b"ping"
    assert server.stop() == 0


def test_the_seed_handler_runs_from_its_command_and_stops_on_ctrl_c(spawn_module: Callable[..., ChildProcess]) -> None:
    server = spawn_module("examples.hello_handler", "0")
    assert request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello world"
    assert server.stop(signal.SIGINT) == 0


EXAMPLES = ["examples.tcp_echo", "examples.timestamp_echo", "examples.udp_echo", "examples.hello_handler"]


@pytest.mark.parametrize("module", EXAMPLES)
def test_an_example_on_a_port_in_use_says_so_in_one_line(module: str) -> None:
    kind = socket.SOCK_DGRAM if module == "examples.udp_echo" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as taken:
        taken.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            taken.listen()
        port = taken.getsockname()[1]
        result = run_module(module, str(port))
    assert result.returncode == 2
    said = f"python -m {module}: error: cannot serve on 127.0.0.1 port {port}: Address already in use\n"
    assert result.stderr == said


@pytest.mark.parametrize("module", EXAMPLES)
@pytest.mark.parametrize("port", ["70000", "99999", "-1", "http"])
def test_an_example_given_a_bad_port_says_so_in_one_line(module: str, port: str) -> None:
    # getaddrinfo would take 70000 as 4464 and 99999 as 34463: a port out of range is refused, not wrapped.
    result = run_module(module, port)
    assert result.returncode == 2
    assert result.stderr.startswith(f"python -m {module}: error: argument port: invalid port {port!r}")
    assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize("threads", ["4", "0"])
def test_flask_through_python_m_reactor_with_static_files(
    spawn_module: Callable[..., ChildProcess], docroot: Path, threads: str
) -> None:
    server = spawn_module(
        "reactor", "-b", "127.0.0.1", "-q", "--wsgi", "examples.flask_app:app", "--threads", threads,
        "--static", f"/static={docroot}", "0",
    )  # fmt: skip
    assert server.banner.startswith("Serving HTTP on 127.0.0.1 port ")
    assert request(server.port, b"GET /hello/seeds HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello seeds\n"
    assert request(server.port, b"GET /count?to=3 HTTP/1.1\r\nHost: t\r\n\r\n").body == b"0\n1\n2\n"
    assert request(server.port, b"GET /static/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello world\n"
    redirect = request(server.port, b"GET /static/site HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (redirect.status, redirect.header("Location")) == (301, "/static/site/")
    assert request(server.port, b"GET /static/../hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 404
    assert server.stop() == 0


def test_the_benchmark_app_serves_with_its_documented_command(spawn_module: Callable[..., ChildProcess]) -> None:
    server = spawn_module("reactor", "-b", "127.0.0.1", "-q", "--wsgi", "loadtest.wsgiapp:app", "0")
    response = request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (response.status, response.body, response.header("Content-Length")) == (200, b"Hello, World!\n", "14")
    assert server.stop() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wsgi", "no_such_module:app"], "cannot import 'no_such_module': No module named 'no_such_module'"),
        (["--wsgi", "loadtest.wsgiapp:missing"], "module 'loadtest.wsgiapp' has no attribute 'missing'"),
        (["--wsgi", "loadtest.wsgiapp"], "module 'loadtest.wsgiapp' has no attribute 'application'"),
        (["--wsgi", "loadtest.wsgiapp:BODY"], "'loadtest.wsgiapp:BODY' is not callable"),
        (["--wsgi", ":app"], "invalid --wsgi ':app'"),
        (["--wsgi", "loadtest.wsgiapp:app", "--threads", "-1"], "invalid thread count '-1'"),
        (["--wsgi", "loadtest.wsgiapp:app", "--threads", "many"], "invalid thread count 'many'"),
        (["--threads", "2"], "--threads applies to a WSGI application"),
        (["--static", "static=."], "invalid prefix 'static'"),
        (["--static", "/=."], "invalid prefix '/'"),
        (["--static", "/s"], "want PREFIX=DIR"),
        (["--static", "/s=/no/such/dir"], "want PREFIX=DIR with an existing directory"),
        (["--static", "/a=.", "--static", "/a/=."], "--static '/a/=.': the prefix '/a' is mounted twice"),
        # No static flag is silently dead beside an application: those about the served directory are
        # refused, and those about static files need a --static mount to apply to.
        (["--wsgi", "loadtest.wsgiapp:app", "-d", "."], "-d applies to the served directory"),
        (["--wsgi", "loadtest.wsgiapp:app", "--spa", "/README.md"], "--spa applies to the served directory"),
        (["--wsgi", "loadtest.wsgiapp:app", "--error-page", "404=/README.md"], "--error-page applies to the"),
        (["--wsgi", "loadtest.wsgiapp:app", "--static", "/s=.", "--spa", "/README.md"], "--spa applies to the"),
        *(
            (["--wsgi", "loadtest.wsgiapp:app", *flags], f"{flags[0]} applies to static files: add --static")
            for flags in (
                ["--cors"],
                ["--upload"],
                ["--no-listing"],
                ["--show-hidden"],
                ["--follow-symlinks"],
                ["--cache-control", "no-cache"],
                ["--mime", "org=text/org"],
                ["--no-compress"],
                ["--no-archive"],
                ["--upload-overwrite", "--upload"],
            )
        ),
    ],
)
def test_bad_application_flags_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run_module("reactor", "-b", "127.0.0.1", *args, "0")
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def client_commands(module: str) -> list[str]:
    """The commands docs/seeds.md shows beside ``python -m module`` to talk to it (comments dropped)."""
    for block in re.findall(r"```sh\n(.*?)```", SEEDS.read_text(), re.S):
        lines = [line.partition("  #")[0].strip() for line in block.splitlines()]
        if f"python -m {module}" in lines:
            return [line for line in lines if line and not line.startswith("python -m ")]
    raise AssertionError(f"docs/seeds.md shows no block running {module}")


@pytest.mark.parametrize(
    ("module", "default_port", "answer"),
    [
        ("examples.tcp_echo", 9999, "hello\nworld\n"),
        ("examples.timestamp_echo", 9998, "] hello"),
        ("examples.udp_echo", 9999, "hello"),
        ("examples.hello_handler", 8000, "hello world"),
    ],
)
def test_the_documented_client_commands_work_with_what_the_readme_installs(
    spawn_module: Callable[..., ChildProcess], module: str, default_port: int, answer: str
) -> None:
    # Python and curl: the README asks for nothing else (no nc).
    server = spawn_module(module, "0")
    commands = client_commands(module)
    assert commands
    for command in commands:
        command = command.replace(str(default_port), str(server.port))
        result = subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, timeout=20, env=ENV, cwd=REPO, check=False
        )
        assert result.returncode == 0, f"{command}: {result.stderr}"
        assert answer in result.stdout, (command, result.stdout)
    assert server.stop(signal.SIGINT) == 0


def test_the_issue_s_command_line_is_refused_in_one_line() -> None:
    args = ("--wsgi", "examples.flask_app:app", "--spa", "/README.md", "--cors", "-H", "X-Test: 1", "--upload")
    result = run_module("reactor", "-b", "127.0.0.1", *args, "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr


def test_beside_an_application_headers_apply_to_it_and_static_flags_to_the_mounts(
    spawn_module: Callable[..., ChildProcess], docroot: Path
) -> None:
    server = spawn_module(
        "reactor", "-b", "127.0.0.1", "-q", "--wsgi", "loadtest.wsgiapp:app", "--static", f"/s={docroot}",
        "-H", "X-Test: 1", "--cors", "--upload", "--show-hidden", "0",
    )  # fmt: skip
    (docroot / ".hidden").write_text("shown")
    app = request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (app.body, app.header("X-Test"), app.header("Access-Control-Allow-Origin")) == (
        b"Hello, World!\n",
        "1",
        None,
    )
    mounted = request(server.port, b"GET /s/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (mounted.header("X-Test"), mounted.header("Access-Control-Allow-Origin")) == ("1", "*")
    assert request(server.port, b"GET /s/.hidden HTTP/1.1\r\nHost: t\r\n\r\n").body == b"shown"
    put = request(server.port, b"PUT /s/new.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok")
    assert put.status == 201 and (docroot / "new.txt").read_bytes() == b"ok"
    assert server.stop() == 0
