"""Real clients over HTTPS: curl with the test CA (GET, HEAD, a resumed download), openssl s_client
(ALPN, the protocol version, SNI, an old version refused) and Python's http.client."""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from tests.integration.client import wait_until
from tests.integration.static_helpers import AccessRecord
from tests.integration.test_static_curl import curl
from tests.tls.conftest import ServeTLS, TLSFiles, has_ipv6_loopback


def run_curl(tls_files: TLSFiles, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [curl(), "-sS", "--fail", "--cacert", str(tls_files.ca), *args], capture_output=True, timeout=120, check=False
    )


def test_curl_gets_a_file_and_its_head(serve_tls: ServeTLS, tls_files: TLSFiles) -> None:
    server = serve_tls()
    url = f"https://localhost:{server.port}/hello.txt"
    got = run_curl(tls_files, url)
    assert got.returncode == 0, got.stderr
    assert got.stdout == b"hello world\n"
    head = run_curl(tls_files, "-I", url)
    assert head.returncode == 0, head.stderr
    lines = head.stdout.decode().lower().splitlines()
    assert lines[0].startswith("http/1.1 200")
    assert "content-length: 12" in lines


def test_curl_resumes_an_interrupted_download(serve_tls: ServeTLS, docroot: Path, tmp_path: Path, tls_files: TLSFiles):
    data = os.urandom(16 << 20)
    (docroot / "big.bin").write_bytes(data)
    record = AccessRecord()
    server = serve_tls(access_log=record)
    url = f"https://127.0.0.1:{server.port}/big.bin"
    copy = tmp_path / "big.bin"
    cut = subprocess.Popen(
        [curl(), "-sS", "--cacert", str(tls_files.ca), "--limit-rate", "4M", "-o", str(copy), url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: copy.exists() and copy.stat().st_size >= 1 << 20, timeout=30)
    finally:
        cut.kill()
        cut.wait(timeout=10)
    assert 0 < copy.stat().st_size < len(data)
    resumed = run_curl(tls_files, "-C", "-", "-o", str(copy), url)
    assert resumed.returncode == 0, resumed.stderr
    assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert wait_until(lambda: ("GET /big.bin HTTP/1.1", 206) in record.entries), record.entries


def s_client(port: int, *args: str, request: bytes = b"") -> subprocess.CompletedProcess[str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args],
        input=request.decode(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_s_client_sees_tls13_alpn_http11_and_its_sni_name_accepted(serve_tls: ServeTLS, tls_files: TLSFiles) -> None:
    server = serve_tls()
    request = b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    result = s_client(
        server.port, "-alpn", "h2,http/1.1", "-servername", "anything.example", "-CAfile", str(tls_files.ca),
        "-ign_eof", request=request,
    )  # fmt: skip
    assert "ALPN protocol: http/1.1" in result.stdout, result.stdout
    assert "Protocol  : TLSv1.3" in result.stdout or "New, TLSv1.3" in result.stdout, result.stdout
    assert "hello world" in result.stdout


def test_tls12_is_served_and_tls11_refused(serve_tls: ServeTLS) -> None:
    server = serve_tls()
    twelve = s_client(server.port, "-tls1_2", request=b"")
    assert "New, TLSv1.2" in twelve.stdout or "Protocol  : TLSv1.2" in twelve.stdout, twelve.stdout
    # The client's own security level would refuse TLS 1.1 before asking: lower it, so the refusal
    # seen is the server's.
    eleven = s_client(server.port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", request=b"")
    assert eleven.returncode != 0
    assert "protocol version" in eleven.stderr or "unsupported protocol" in eleven.stderr, eleven.stderr
    assert server.statistics().closes.get("handshake failed", 0) >= 1
    assert server.statistics().tls_handshake_failures == {"UNSUPPORTED_PROTOCOL": 1}


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_http_client_keeps_the_connection_for_several_requests(
    serve_tls: ServeTLS, client_context: ssl.SSLContext, host: str
) -> None:
    if host == "::1" and not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    server = serve_tls(host=host)
    connection = http.client.HTTPSConnection(host, server.port, context=client_context, timeout=10)
    try:
        for path, body in [("/hello.txt", b"hello world\n"), ("/1k.bin", bytes(range(256)) * 4)] * 3:
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == body
        assert connection.sock is not None
        assert connection.sock.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        connection.close()
    assert server.statistics().accepted == 1
