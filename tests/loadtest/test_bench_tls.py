"""The benchmark's tls suite: its certificate, nginx's ssl configuration, and the servers it compares.
Nothing here is timed."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

import loadtest.nginx
from loadtest import bench, certificate
from loadtest.site import LARGE


@pytest.fixture
def made(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    return certificate.self_signed(tmp_path / "tls")


def test_the_certificate_is_made_once_and_serves_localhost(made: tuple[Path, Path], tmp_path: Path) -> None:
    cert, key = made
    stamp = cert.stat().st_mtime_ns
    assert certificate.self_signed(tmp_path / "tls") == (cert, key)
    assert cert.stat().st_mtime_ns == stamp
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)  # the pair fits
    names = ssl._ssl._test_decode_cert(str(cert))["subjectAltName"]  # type: ignore[attr-defined]
    assert ("DNS", "localhost") in names and ("IP Address", "127.0.0.1") in names


def test_nginx_listens_with_ssl_only_when_given_a_certificate() -> None:
    where = Path("/srv")
    plain = loadtest.nginx.config(where, 8443, where)
    assert "listen 127.0.0.1:8443;" in plain and "ssl" not in plain
    text = loadtest.nginx.config(where, 8443, where, tls=(Path("/c/cert.pem"), Path("/c/key.pem")))
    assert "listen 127.0.0.1:8443 ssl;" in text
    assert "ssl_certificate /c/cert.pem;" in text and "ssl_certificate_key /c/key.pem;" in text
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in text


def test_nginx_accepts_its_ssl_configuration(made: tuple[Path, Path], tmp_path: Path) -> None:
    if not loadtest.nginx.installed():
        pytest.skip("nginx is not installed")
    docroot = tmp_path / "site"
    docroot.mkdir()
    command = loadtest.nginx.command(docroot, 8443, tls=made)
    result = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr


def test_the_tls_suite_speaks_https_to_every_server_and_compares_with_nginx() -> None:
    suite = bench.tls_suite()
    assert all(server.scheme == "https" for server in suite.servers)
    assert [scenario.path for scenario in suite.scenarios] == [bench.ONE_KIB, LARGE]
    assert suite.servers[0].name == "reactor https"
    if loadtest.nginx.installed():
        assert suite.reference == "nginx https"
    assert "tls" in bench.SUITES and "tls" not in bench.DEFAULT_SUITES
