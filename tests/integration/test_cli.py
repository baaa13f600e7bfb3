"""``python -m reactor`` as a user runs it: its flags, its errors, its signals."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from reactor import __version__
from tests.integration.client import RawClient, request, start_download, wait_until
from tests.integration.processes import ENV, run_cli

GET_HELLO = b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n"


def ipv6_loopback() -> bool:
    """True when this host can listen on ::1."""
    if not socket.has_ipv6:
        return False
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        return False
    return True


def refuses(port: int) -> bool:
    """True when a connection to 127.0.0.1:``port`` is refused: nothing listens there."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_serves_a_directory_and_prints_where(spawn, docroot: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "--quiet", "0")
    assert f"(http://127.0.0.1:{server.port}/)" in server.banner
    assert request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello world\n"
    assert server.stop() == 0


def test_current_directory_is_the_default(spawn, docroot: Path) -> None:
    server = spawn("--bind", "127.0.0.1", "0", cwd=docroot)
    assert request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
    assert server.stop() == 0


def test_access_log_lines_use_the_common_log_format(spawn, docroot: Path, tmp_path: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "0")
    request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
    request(server.port, b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
    server.stop()
    log = (tmp_path / "stderr0.txt").read_text()
    assert "127.0.0.1 - - [" in log
    assert '"GET /hello.txt HTTP/1.1" 200 12' in log
    assert '"GET /nope HTTP/1.1" 404 ' in log


def test_quiet_prints_no_access_log(spawn, docroot: Path, tmp_path: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "0")
    request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
    server.stop()
    assert "GET /hello.txt" not in (tmp_path / "stderr0.txt").read_text()


def test_ipv6_loopback_and_host_names_can_be_bound(spawn, docroot: Path) -> None:
    if not ipv6_loopback():
        pytest.skip("::1 is not available")
    server = spawn("-b", "::1", "-d", str(docroot), "-q", "0")
    assert "http://[::1]:" in server.banner
    with socket.create_connection(("::1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
    server.stop()
    named = spawn("-b", "localhost", "-d", str(docroot), "-q", "0")
    # RawClient connects with socket.create_connection, which tries every address "localhost" has:
    # this passes whichever family the server bound.
    with RawClient(named.port, host="localhost") as client:
        client.send(GET_HELLO)
        assert client.read_response().body == b"hello world\n"
    assert named.stop() == 0


def test_with_no_bind_it_listens_dual_stack(spawn, docroot: Path) -> None:
    # The one wildcard bind of the suite (all interfaces, as http.server does): port 0, stopped at the end.
    server = spawn("-d", str(docroot), "-q", "0")
    assert request(server.port, GET_HELLO).status == 200
    if socket.has_dualstack_ipv6() and ipv6_loopback():
        with RawClient(server.port, host="::1") as client:
            client.send(GET_HELLO)
            assert client.read_response().status == 200
    assert server.stop() == 0


@pytest.mark.parametrize("port", ["70000", "-1", "http", "8o80"])
def test_bad_port_is_one_line_and_exit_2(port: str) -> None:
    result = run_cli("-b", "127.0.0.1", port)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "port" in result.stderr


def test_missing_directory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("-d", str(tmp_path / "nope"), "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "nope" in result.stderr


def test_address_in_use_is_one_line_and_exit_2() -> None:
    holder = socket.create_server(("127.0.0.1", 0))
    try:
        result = run_cli("-b", "127.0.0.1", str(holder.getsockname()[1]))
    finally:
        holder.close()
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "in use" in result.stderr


def test_unknown_host_is_one_line_and_exit_2() -> None:
    result = run_cli("-b", "no-such-host.invalid", "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


def test_sigterm_lets_a_large_download_finish_then_exits_0(spawn, docroot: Path) -> None:
    data = os.urandom(64 << 20)
    (docroot / "big.bin").write_bytes(data)
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--grace", "30", "0")
    with start_download(server.port, "/big.bin") as client:
        server.process.send_signal(signal.SIGTERM)
        # The drain stops accepting first: new connections are refused while this download, unread
        # and far larger than the socket buffers, is still in flight.
        assert wait_until(lambda: refuses(server.port))
        assert server.alive()
        response = client.read_response()
        # Its response out, the connection closes now, not when the 30 s grace period ends.
        assert client.is_closed(timeout=5)
    assert response.header("Content-Length") == str(len(data))
    assert hashlib.sha256(response.body).digest() == hashlib.sha256(data).digest()
    assert server.process.wait(timeout=20) == 0


def test_grace_expiry_cuts_a_download_short_and_exits_0(spawn, docroot: Path) -> None:
    size = 64 << 20
    (docroot / "big.bin").write_bytes(b"x" * size)
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--grace", "0.5", "0")
    with start_download(server.port, "/big.bin") as client:
        server.process.send_signal(signal.SIGTERM)
        # The client reads nothing, so the response cannot finish: the 0.5 s grace period ends it.
        assert server.process.wait(timeout=5) == 0
        head, _, body = client.read_until_closed().partition(b"\r\n\r\n")
    assert f"\r\nContent-Length: {size}\r\n".encode() in head + b"\r\n"
    assert len(body) < size, "the connection was closed before the whole body was sent"


def test_sigint_with_idle_keep_alive_connection_exits_at_once(spawn, docroot: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "0")
    with RawClient(server.port) as client:
        client.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        client.read_response()
        server.process.send_signal(signal.SIGINT)
        assert client.is_closed(timeout=10), "an idle keep-alive connection is closed on shutdown"
    assert server.process.wait(timeout=10) == 0


def test_version_prints_the_version_and_exits_0() -> None:
    result = run_cli("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"python -m reactor {__version__}\n", "")


FAKE_BROWSER = """#!{python}
# A browser for the test: it notes the URL it is asked to open, then loads it.
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
    status = response.status
with open({record!r}, "a") as record:
    record.write(sys.argv[1] + " " + str(status) + "\\n")
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_open_starts_the_default_browser_once_at_the_server(
    spawn, docroot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    record = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(FAKE_BROWSER.format(python=sys.executable, record=str(record)))
    browser.chmod(0o755)
    monkeypatch.setitem(ENV, "BROWSER", str(browser))  # webbrowser runs $BROWSER URL
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--workers", workers, "--open", "0")
    assert wait_until(record.exists)
    assert server.stop() == 0
    assert record.read_text() == f"http://127.0.0.1:{server.port}/ 200\n", "opened once, and it answered"
