"""The access log counts what left, names who asked, and stands in order among the trace lines
(issue 25, defect 4): a download cut short logs the bytes that really left, as nginx's
$body_bytes_sent, not the size the response announced."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers.auth.basic import BasicAuth
from handlers.auth.passwd import make_hash
from handlers.static.staticfiles import StaticFiles
from reactor.limits import Limits
from tests.conftest import LiveServer
from tests.integration.client import request, wait_until
from tests.integration.static_helpers import AccessRecord

BIG = 32 * 1024 * 1024


@pytest.fixture
def big_site(tmp_path: Path) -> Path:
    root = tmp_path / "big"
    root.mkdir()
    with (root / "big.bin").open("wb") as file:
        file.truncate(BIG)  # sparse: sent with sendfile, never read by the test
    (root / "small.txt").write_bytes(b"hello world\n")
    return root


@pytest.fixture
def logged(big_site: Path) -> Iterator[tuple[LiveServer, AccessRecord]]:
    record = AccessRecord()
    server = LiveServer(StaticFiles(str(big_site)), access_log=record)
    try:
        yield server, record
    finally:
        server.stop()


def small_receiver(port: int) -> socket.socket:
    """A client whose receive buffer holds little, so a large response stays mostly on our side."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


def test_a_download_cut_short_logs_the_bytes_that_left_not_the_size_announced(
    logged: tuple[LiveServer, AccessRecord],
) -> None:
    server, record = logged
    sock = small_receiver(server.port)
    sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
    assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    assert wait_until(lambda: server.statistics().queued > 0), "the rest waits on our side"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()  # a reset: the download is abandoned
    assert wait_until(lambda: len(record.lines) == 1)
    _client, user, line, status, size = record.lines[0]
    assert (user, line, status) == ("-", "GET /big.bin HTTP/1.1", 200)
    assert 0 < size < BIG


def test_a_download_cut_by_the_shutdown_grace_logs_what_left(logged: tuple[LiveServer, AccessRecord]) -> None:
    server, record = logged
    sock = small_receiver(server.port)
    try:
        sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert wait_until(lambda: server.statistics().queued > 0)
        server.call(lambda: server.server.shutdown(grace=0.05))
        assert wait_until(lambda: len(record.lines) == 1)
    finally:
        sock.close()
    assert 0 < record.lines[0][4] < BIG


def test_a_whole_response_logs_its_body_and_only_once_it_has_left(logged: tuple[LiveServer, AccessRecord]) -> None:
    server, record = logged
    assert request(server.port, b"GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello world\n"
    assert request(server.port, b"HEAD /small.txt HTTP/1.1\r\nHost: t\r\n\r\n", "HEAD").status == 200
    assert wait_until(lambda: len(record.lines) == 2)
    assert [entry[2:] for entry in record.lines] == [
        ("GET /small.txt HTTP/1.1", 200, 12),
        ("HEAD /small.txt HTTP/1.1", 200, 0),  # a HEAD sends no body: $body_bytes_sent is 0
    ]


def test_the_authenticated_user_is_the_log_s_user_field(big_site: Path) -> None:
    record = AccessRecord()
    users = {"ann": make_hash("secret", iterations=1000)}
    server = LiveServer(BasicAuth(users, StaticFiles(str(big_site))), access_log=record)
    try:
        token = base64.b64encode(b"ann:secret").decode()
        head = f"GET /small.txt HTTP/1.1\r\nHost: t\r\nAuthorization: Basic {token}\r\n\r\n".encode()
        assert request(server.port, head).status == 200
        assert request(server.port, head).status == 200  # the second time from what was verified
        assert request(server.port, b"GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 401
        assert wait_until(lambda: len(record.lines) == 3)
    finally:
        server.stop()
    assert [(user, status) for _client, user, _line, status, _size in record.lines] == [
        ("ann", 200),
        ("ann", 200),
        ("-", 401),
    ]


def test_under_trace_each_line_stands_where_its_response_left(spawn, docroot: Path, tmp_path: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "--trace=conn", "0")
    request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
    request(server.port, b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
    server.stop()
    lines = (tmp_path / "stderr0.txt").read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if '"GET /hello.txt HTTP/1.1" 200 12' in line)
    second_accept = [i for i, line in enumerate(lines) if " accept " in line][1]
    assert first < second_accept, "the first response's line comes before the second connection's trace"


def test_the_limits_do_not_matter_to_the_log(big_site: Path) -> None:
    # A connection that closes after its response (Connection: close) logs it once it has left.
    record = AccessRecord()
    server = LiveServer(StaticFiles(str(big_site)), Limits(), access_log=record)
    try:
        head = b"GET /small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        assert request(server.port, head).body == b"hello world\n"
        assert wait_until(lambda: len(record.lines) == 1)
    finally:
        server.stop()
    assert record.lines[0][3:] == (200, 12)
