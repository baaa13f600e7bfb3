"""``-H/--header`` and ``-p/--protocol`` as a user gives them: real clients against ``python -m reactor``."""

from __future__ import annotations

import http.client
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.client import RawClient
from tests.integration.processes import ReactorProcess, run_cli
from tests.integration.static_helpers import fetch
from tests.integration.test_static_curl import curl

Spawn = Callable[..., ReactorProcess]


def test_each_header_is_on_every_static_response(spawn: Spawn, docroot: Path) -> None:
    server = spawn(
        "-b", "127.0.0.1", "-d", str(docroot), "-q",
        "-H", "X-Frame-Options: DENY",
        "--header", "Content-Security-Policy:   default-src 'self'",
        "-H", "X-Frame-Options: SAMEORIGIN",  # repeated names are sent in order, as given
        "0",
    )  # fmt: skip
    for target, status in [("/hello.txt", 200), ("/", 200), ("/missing", 404), ("/site", 301)]:
        response = fetch(server.port, target)
        assert response.status == status, target
        assert [value for name, value in response.headers if name == "X-Frame-Options"] == ["DENY", "SAMEORIGIN"]
        assert response.header("Content-Security-Policy") == "default-src 'self'"
    etag = fetch(server.port, "/hello.txt").header("ETag")
    assert etag is not None
    revalidated = fetch(server.port, "/hello.txt", [("If-None-Match", etag)])
    assert revalidated.status == 304 and revalidated.header("X-Frame-Options") == "DENY"
    # curl sees them too.
    shown = subprocess.run(
        [curl(), "-sS", "-I", f"http://127.0.0.1:{server.port}/hello.txt"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "X-Frame-Options: DENY\n" in shown.stdout


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("X-Missing-Colon", "want 'Name: value'"),
        ("Bad Name: x", "want 'Name: value'"),
        (": no name", "want 'Name: value'"),
        ("X-Empty:", "must be printable ASCII"),
        ("X-Control: a\x01b", "must be printable ASCII"),
        ("X-Split: a\r\nSet-Cookie: b", "must be printable ASCII"),
        ("X-Latin: caf\u00e9", "must be printable ASCII"),
        ("Content-Length: 5", "the server frames every response"),
        ("connection: close", "the server frames every response"),
        ("Content-Type: text/plain", "use --mime"),
        ("Cache-Control: no-store", "use --cache-control"),
    ],
)
def test_a_header_that_cannot_be_sent_is_one_line_and_exit_2(docroot: Path, header: str, why: str) -> None:
    result = run_cli("-b", "127.0.0.1", "-d", str(docroot), "-H", header, "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and why in result.stderr and "Traceback" not in result.stderr


def test_as_http10_each_response_says_so_and_the_connection_closes(spawn: Spawn, docroot: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--protocol", "HTTP/1.0", "0")
    with RawClient(server.port) as client:
        client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        response = client.read_response()
        assert (response.version, response.status) == ("HTTP/1.0", 200)
        assert response.header("Connection") == "close" and response.header("Content-Length") is not None
        assert client.is_closed()


def test_as_http10_a_client_that_asks_keeps_its_connection(spawn: Spawn, docroot: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "-p", "http/1.0", "0")
    with RawClient(server.port) as client:
        for _ in range(3):
            client.send(b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            response = client.read_response()
            assert (response.version, response.status) == ("HTTP/1.0", 200)
            assert response.header("Connection") == "keep-alive"
        client.send(b"GET /nothing-here HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        missing = client.read_response()
        assert (missing.version, missing.status) == ("HTTP/1.0", 404)
    # http.client speaks HTTP/1.1 and reads the 1.0 answer, then reconnects for the next one.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for _ in range(2):
        connection.request("GET", "/hello.txt")
        answer = connection.getresponse()
        assert answer.version == 10 and answer.read() == (docroot / "hello.txt").read_bytes()
    connection.close()


def test_an_unknown_protocol_is_one_line_and_exit_2(docroot: Path) -> None:
    result = run_cli("-b", "127.0.0.1", "-d", str(docroot), "-p", "HTTP/2", "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "want HTTP/1.1 or HTTP/1.0" in result.stderr
