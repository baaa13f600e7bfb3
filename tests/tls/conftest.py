"""Fixtures for the HTTPS tests: a throwaway CA and a server certificate for 127.0.0.1, ::1 and
localhost, made with ``openssl`` for this test session only (no key is committed), and a live HTTPS
server over the docroot."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handlers.static.options import StaticOptions
from handlers.static.staticfiles import StaticFiles
from reactor.limits import Limits
from reactor.net.tls import load_context
from tests.conftest import LiveServer
from tests.integration.processes import ChildProcess


@dataclass(frozen=True)
class TLSFiles:
    ca: Path  # the CA certificate a client trusts
    cert: Path  # the server's certificate, signed by the CA
    key: Path  # its private key, unencrypted
    encrypted_key: Path  # the same key, encrypted with ``password``
    password: str


def openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: .ci/run installs it (apt-get install openssl)")
    where = tmp_path_factory.mktemp("tls")
    days = "2"
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        days,
        "-subj",
        "/CN=reactor test CA",
        # What a CA certificate must say for Python 3.13's default (VERIFY_X509_STRICT) client context.
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=where,
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
        cwd=where,
    )
    (where / "san.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
        "authorityKeyIdentifier=keyid,issuer\n"  # and a leaf this, for the same strict checks
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
    )
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        days,
        "-extfile",
        "san.ext",
        cwd=where,
    )
    password = "correct horse"
    (where / "password.txt").write_text(password + "\n")
    openssl(
        "pkey",
        "-in",
        "server.key",
        "-out",
        "server-encrypted.key",
        "-aes256",
        "-passout",
        "file:password.txt",
        cwd=where,
    )
    return TLSFiles(
        where / "ca.pem", where / "server.pem", where / "server.key", where / "server-encrypted.key", password
    )


@pytest.fixture(scope="session")
def server_context(tls_files: TLSFiles) -> ssl.SSLContext:
    return load_context(str(tls_files.cert), str(tls_files.key))


@pytest.fixture
def client_context(tls_files: TLSFiles) -> ssl.SSLContext:
    """What a careful client uses: our CA trusted, the host name checked."""
    return ssl.create_default_context(cafile=str(tls_files.ca))


ServeTLS = Callable[..., LiveServer]


@pytest.fixture
def serve_tls(docroot: Path, server_context: ssl.SSLContext) -> Iterator[ServeTLS]:
    """``serve_tls(root=None, limits=None, host="127.0.0.1", access_log=None, **options)``: a LiveServer
    of StaticFiles over HTTPS; stopped after the test."""
    started: list[LiveServer] = []

    def start(
        root: Path | None = None,
        limits: Limits | None = None,
        host: str = "127.0.0.1",
        access_log: Any = None,
        **options: Any,
    ) -> LiveServer:
        handler = StaticFiles(str(root or docroot), StaticOptions(**options))
        server = LiveServer(handler, limits, access_log, tls=server_context, host=host)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture
def spawn_https(tmp_path: Path, tls_files: TLSFiles) -> Iterator[Callable[..., ChildProcess]]:
    """``spawn_https(*args)``: ``python -m reactor --tls-cert ... --tls-key ... args`` in a child, its
    first line the "Serving HTTPS on" banner; killed after the test if it still runs."""
    started: list[ChildProcess] = []

    def start(*args: str) -> ChildProcess:
        child = ChildProcess(
            "reactor", "--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.key), *args,
            stderr_path=tmp_path / f"stderr{len(started)}.txt", expect="Serving HTTPS on ",
        )  # fmt: skip
        started.append(child)
        return child

    yield start
    for child in started:
        child.kill()
