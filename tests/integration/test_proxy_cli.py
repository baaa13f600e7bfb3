"""``--proxy PREFIX=URL`` as a user runs it: a Flask application under ``--wsgi`` in one process, this
server in front of it in another, serving a folder beside it; and every bad value refused in one line."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.client import RawClient, request
from tests.integration.processes import ReactorProcess, run_cli

pytest.importorskip("flask")


def test_a_flask_backend_beside_a_folder(spawn: Callable[..., ReactorProcess], docroot: Path) -> None:
    backend = spawn("-b", "127.0.0.1", "-q", "--wsgi", "examples.flask_app:app", "0")
    front = spawn("-b", "127.0.0.1", "-d", str(docroot), "--proxy", f"/api=http://localhost:{backend.port}/", "-q", "0")
    assert request(front.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello world\n"
    hello = request(front.port, b"GET /api/hello/ada HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (hello.status, hello.body) == (200, b"hello ada\n")
    assert hello.header("Via") == "1.1 reactor"
    form = b"a=1&b=two"
    echoed = request(
        front.port,
        b"POST /api/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(form), form),
    )
    assert echoed.status == 200 and b'"b":"two"' in echoed.body.replace(b" ", b"")
    with RawClient(front.port) as client:  # a streamed response, and the same connection after it
        client.send(b"GET /api/count?to=1000 HTTP/1.1\r\nHost: t\r\n\r\n")
        counted = client.read_response()
        assert counted.header("Transfer-Encoding") == "chunked"
        assert counted.body == "".join(f"{number}\n" for number in range(1000)).encode()
        client.send(b"GET /api/nothing-here HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().status == 404
    assert front.stop() == 0
    assert backend.stop() == 0


def test_the_banner_says_where_each_prefix_goes(spawn: Callable[..., ReactorProcess], docroot: Path) -> None:
    front = spawn("-b", "127.0.0.1", "-d", str(docroot), "--proxy", "/api=http://127.0.0.1:9", "0")
    assert front.process.stdout is not None
    assert front.process.stdout.readline() == b"Proxying /api to http://127.0.0.1:9\n"
    response = request(front.port, b"GET /api/x HTTP/1.1\r\nHost: t\r\n\r\n")
    assert response.status == 502, "nothing listens on port 9"
    assert front.stop() == 0
    assert "cannot connect to the backend http://127.0.0.1:9" in front.stderr_path.read_text()


def test_the_metrics_count_proxied_requests_and_the_proxy_s_own_answers(
    spawn: Callable[..., ReactorProcess], docroot: Path
) -> None:
    backend = spawn("-b", "127.0.0.1", "-q", "-d", str(docroot), "0")
    front = spawn(
        "-b", "127.0.0.1", "-d", str(docroot), "-q", "--status-path", "/-/status",
        "--proxy", f"/up=http://127.0.0.1:{backend.port}/", "--proxy", "/down=http://127.0.0.1:9", "0",
    )  # fmt: skip
    assert request(front.port, b"GET /up/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello world\n"
    assert request(front.port, b"GET /down/x HTTP/1.1\r\nHost: t\r\n\r\n").status == 502
    metrics = request(front.port, b"GET /-/status/metrics HTTP/1.1\r\nHost: t\r\n\r\n").body.decode()
    assert "reactor_proxied_requests_total 2\n" in metrics
    assert "reactor_proxy_failures_total 1\n" in metrics
    assert front.stop() == 0
    assert backend.stop() == 0


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--proxy", "/api"], "want PREFIX=URL"),
        (["--proxy", "api=http://127.0.0.1:5000"], "invalid prefix"),
        (["--proxy", "/=http://127.0.0.1:5000"], "invalid prefix"),
        (["--proxy", "/api=https://127.0.0.1:5000"], "only http:// backends"),
        (["--proxy", "/api=ftp://127.0.0.1:5000"], "is not http://HOST[:PORT][/PATH]"),
        (["--proxy", "/api=http://127.0.0.1:5000/?x=1"], "is not http://HOST[:PORT][/PATH]"),
        (["--proxy", "/api=http://user@127.0.0.1:5000"], "is not http://HOST[:PORT][/PATH]"),
        (["--proxy", "/api=http://127.0.0.1:70000"], "out of range"),
        (["--proxy", "/api=http://no-such-host.invalid:5000"], "cannot resolve 'no-such-host.invalid'"),
        (["--proxy", "/api=http://127.0.0.1:1", "--proxy", "/api/=http://127.0.0.1:2"], "is taken already"),
        (["--static", "/api=.", "--proxy", "/api=http://127.0.0.1:1"], "is taken already"),
        (["--proxy-timeout", "0"], "must be more than zero"),
    ],
)
def test_a_bad_proxy_is_one_line_and_exit_2(flags: list[str], says: str) -> None:
    result = run_cli(*flags, str(unused_port()))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    assert result.stdout == ""
