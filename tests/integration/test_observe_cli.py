"""Watching the reactor from the command line: --trace, --selector, --status-path."""

from __future__ import annotations

import json
import re
import selectors
from pathlib import Path

import pytest

from tests.integration.browser import dump_dom
from tests.integration.client import request, wait_until
from tests.integration.processes import run_cli

TRACE_LINE = re.compile(r" *\d+\.\d{6} (loop |#\d+ *) ?[a-z]+( .*)?")


def test_trace_shows_the_loop_and_a_request_s_life(spawn, docroot: Path, tmp_path: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--trace", "0")
    assert request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").status == 200
    log = tmp_path / "stderr0.txt"
    assert wait_until(lambda: "close" in log.read_text())
    server.stop()
    lines = [line for line in log.read_text().splitlines() if TRACE_LINE.fullmatch(line)]
    text = "\n".join(lines)
    assert re.search(r"loop  select waited=\d+\.\d+s ready=1 fds=\d+:R", text)
    for fact in (
        "accept from=127.0.0.1:",
        "recv bytes=",
        "request GET /hello.txt HTTP/1.1",
        "response 200 body=12",
        "send bytes=",
        "close ",
    ):
        assert fact in text, fact
    connection_lines = [line for line in lines if " #1 " in line]
    assert 8 <= len(connection_lines) <= 20, "a request's life fits in a dozen lines or so"


@pytest.mark.parametrize("spelling", ["--trace={}", "--trace {}"])
@pytest.mark.parametrize(("narrowed", "present", "absent"), [("conn", " #1 ", " loop "), ("loop", " loop ", " #1 ")])
def test_trace_can_be_narrowed(
    spawn, docroot: Path, tmp_path: Path, spelling: str, narrowed: str, present: str, absent: str
) -> None:
    # "--trace conn" as well as "--trace=conn": a bare --trace followed by a port still means both.
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", *spelling.format(narrowed).split(), "0")
    request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
    server.stop()
    text = (tmp_path / "stderr0.txt").read_text()
    assert present in text and absent not in text


@pytest.mark.parametrize("name", ["select", "poll", "epoll", "auto"])
def test_every_selector_serves(spawn, docroot: Path, name: str) -> None:
    if name != "auto" and not hasattr(
        selectors, {"select": "SelectSelector", "poll": "PollSelector", "epoll": "EpollSelector"}[name]
    ):
        pytest.skip(f"no {name} here")
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--selector", name, "0")
    for _ in range(3):
        assert request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello world\n"
    assert server.stop() == 0


def test_status_path_serves_the_page_and_its_json(spawn, docroot: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--status-path", "/-/status", "0")
    page = request(server.port, b"GET /-/status HTTP/1.1\r\nHost: t\r\n\r\n")
    assert page.status == 200 and b"/-/status.json" in page.body
    document = json.loads(request(server.port, b"GET /-/status.json HTTP/1.1\r\nHost: t\r\n\r\n").body)
    assert document["statistics"]["requests"] >= 2
    assert request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
    server.stop()


def test_no_status_page_without_the_flag(spawn, docroot: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "0")
    missing = request(server.port, b"GET /no-such-file HTTP/1.1\r\nHost: t\r\n\r\n")
    assert missing.status == 404
    for path in ("/-/status", "/-/status.json"):
        response = request(server.port, f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        # The static handler's answer for any missing path: the page is off by default.
        assert (response.status, response.body) == (404, missing.body), path
    assert server.stop() == 0


@pytest.mark.parametrize("value", ["status", "/a b", "/x?y"])
def test_a_bad_status_path_is_one_line_and_exit_2(value: str) -> None:
    result = run_cli("--status-path", value, "0")
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_the_status_page_serves_a_timeline_of_its_last_seconds(spawn, docroot: Path, tmp_path: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--status-path", "/-/status", "0")
    for _ in range(3):
        assert request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").status == 200
    status = request(server.port, b"GET /-/status HTTP/1.1\r\nHost: t\r\n\r\n")
    assert b'href="/-/status/timeline?seconds=5"' in status.body
    page = request(server.port, b"GET /-/status/timeline?seconds=60 HTTP/1.1\r\nHost: t\r\n\r\n")
    assert page.status == 200 and page.header("Content-Type") == "text/html; charset=utf-8"
    text = page.body.decode()
    assert int(re.search(r'data-requests="(\d+)"', text)[1]) >= 4  # type: ignore[index]  # 3, and the status page's
    assert text.count('<g class="lane connection"') >= 4 and '<g class="lane loop"' in text
    dom = dump_dom(f"http://127.0.0.1:{server.port}/-/status/timeline?seconds=60", tmp_path / "profile")
    assert dom.count('<g class="lane connection"') >= 4 and dom.count('<g class="mark request"') >= 4
    for query in (b"seconds=0", b"seconds=x", b"seconds=1e9"):
        answer = request(server.port, b"GET /-/status/timeline?" + query + b" HTTP/1.1\r\nHost: t\r\n\r\n")
        assert answer.status == 400 and b"seconds must be" in answer.body
    server.stop()
    assert not any(TRACE_LINE.fullmatch(line) for line in (tmp_path / "stderr0.txt").read_text().splitlines())
