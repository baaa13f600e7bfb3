"""``python -m reactor --tls-cert ...`` as a user runs it: bad files refused before listening, HTTPS
with --workers, --redirect-http, and a 64 MiB download over TLS with the server's memory flat."""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import socket
import ssl
from pathlib import Path

from handlers.flags import startup_warnings
from tests.integration.client import wait_until
from tests.integration.processes import ChildProcess, run_cli
from tests.tls.conftest import TLSFiles


def test_bad_certificate_key_or_password_is_one_line_and_exit_2(tls_files: TLSFiles, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the password\n")
    cases = [
        (["--tls-cert", str(tmp_path / "missing.pem")], "missing.pem"),
        (["--tls-cert", str(tls_files.key)], "no PEM certificate"),
        (["--tls-cert", str(tls_files.cert)], "no PEM private key"),
        (["--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.ca)], "no PEM private key"),
        (["--tls-cert", str(tls_files.ca), "--tls-key", str(tls_files.key)], "does not belong"),
        (["--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.encrypted_key)], "--tls-password-file"),
        (
            [
                "--tls-cert",
                str(tls_files.cert),
                "--tls-key",
                str(tls_files.encrypted_key),
                "--tls-password-file",
                str(wrong),
            ],
            "wrong password",
        ),
        (["--tls-key", str(tls_files.key)], "--tls-key needs --tls-cert"),
        (["--redirect-http", "0"], "--redirect-http needs --tls-cert"),
    ]
    for args, says in cases:
        result = run_cli(*args, "0")
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == "", "nothing listened"
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and says in lines[0], (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert "not the password" not in result.stderr


def handshakes(port: int, tls_files: TLSFiles, server_hostname: str) -> bool:
    """Whether a TLS handshake with 127.0.0.1:``port`` completes, the test CA trusted."""
    context = ssl.create_default_context(cafile=str(tls_files.ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as sock,
    ):
        return sock.version() is not None


def test_an_encrypted_key_with_its_password_file_serves(tls_files: TLSFiles, tmp_path: Path) -> None:
    password = tmp_path / "password.txt"
    password.write_text(tls_files.password + "\n")
    child = ChildProcess(
        "reactor", "--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.encrypted_key),
        "--tls-password-file", str(password), "-b", "127.0.0.1", "0",
        stderr_path=tmp_path / "stderr.txt", expect="Serving HTTPS on ",
    )  # fmt: skip
    try:
        assert f"(https://127.0.0.1:{child.port}/)" in child.banner
        assert handshakes(child.port, tls_files, "localhost")
    finally:
        assert child.stop() == 0


def test_a_cert_file_that_holds_the_key_needs_no_tls_key(tls_files: TLSFiles, tmp_path: Path) -> None:
    both = tmp_path / "both.pem"
    both.write_bytes(tls_files.cert.read_bytes() + tls_files.key.read_bytes())
    child = ChildProcess(
        "reactor", "--tls-cert", str(both), "-b", "127.0.0.1", "0",
        stderr_path=tmp_path / "stderr.txt", expect="Serving HTTPS on ",
    )  # fmt: skip
    try:
        assert handshakes(child.port, tls_files, "127.0.0.1")
    finally:
        assert child.stop() == 0


def test_passwords_over_https_draw_no_clear_text_warning() -> None:
    plain = startup_warnings(argparse.Namespace(upload=False, auth_file="users.txt"), "0.0.0.0")
    assert any("passwords cross the network" in warning for warning in plain)
    https = argparse.Namespace(upload=False, auth_file="users.txt", tls_cert="cert.pem")
    assert startup_warnings(https, "0.0.0.0") == []


def get(port: int, path: str, context: ssl.SSLContext, host: str = "localhost") -> http.client.HTTPResponse:
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=20)
    connection.request("GET", path)
    return connection.getresponse()


def test_workers_serve_https(spawn_https, docroot: Path, client_context: ssl.SSLContext) -> None:
    server = spawn_https("--workers", "2", "-q", "-b", "127.0.0.1", "-d", str(docroot), "0")
    # The workers bind their own sockets (SO_REUSEPORT) a moment after the banner.
    assert wait_until(lambda: listening(server.port), timeout=20)
    for _ in range(6):
        response = get(server.port, "/hello.txt", client_context)
        assert response.status == 200 and response.read() == b"hello world\n"
    assert server.stop() == 0


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def plain_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    return bytes(received)


def test_redirect_http_answers_308_to_the_https_url(spawn_https, docroot: Path, client_context) -> None:
    redirect = free_port()
    server = spawn_https("-q", "-b", "127.0.0.1", "-d", str(docroot), "--redirect-http", str(redirect), "0")
    answer = plain_request(
        redirect, b"GET /hello.txt?a=1 HTTP/1.1\r\nHost: localhost:8080\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 308 Permanent Redirect\r\n")
    assert f"\r\nLocation: https://localhost:{server.port}/hello.txt?a=1\r\n".encode() in answer
    answer = plain_request(redirect, b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n")
    assert f"\r\nLocation: https://[::1]:{server.port}/\r\n".encode() in answer
    assert plain_request(redirect, b"GET / HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    # Following the redirect lands on the file.
    response = get(server.port, "/hello.txt?a=1", client_context)
    assert response.read() == b"hello world\n"
    assert server.stop() == 0


def peak_rss(pid: int) -> int:
    """The process's resident-set high-water mark, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_a_64_mib_download_keeps_its_hash_and_the_server_memory_flat(
    spawn_https, docroot: Path, client_context: ssl.SSLContext
) -> None:
    data = os.urandom(64 << 20)
    (docroot / "big.bin").write_bytes(data)
    server = spawn_https("-q", "-b", "127.0.0.1", "-d", str(docroot), "0")
    warm = get(server.port, "/hello.txt", client_context)
    assert warm.read() == b"hello world\n"
    before = peak_rss(server.pid)
    response = get(server.port, "/big.bin", client_context)
    digest = hashlib.sha256()
    while chunk := response.read(1 << 20):
        digest.update(chunk)
    assert digest.digest() == hashlib.sha256(data).digest()
    grown = peak_rss(server.pid) - before
    assert grown < 8 << 20, f"the server's peak RSS grew by {grown >> 20} MiB for a 64 MiB file"
    assert server.stop() == 0
