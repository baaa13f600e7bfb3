"""Real curl resumes an interrupted download (``curl -C -``) to a byte-identical copy."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.client import wait_until
from tests.integration.conftest import ServeStatic
from tests.integration.static_helpers import AccessRecord

SIZE = 64 << 20


def curl() -> str:
    path = shutil.which("curl")
    if path is None:
        pytest.fail("curl is not installed: .ci/run installs it (apt-get install curl)")
    return path


def test_curl_resumes_an_interrupted_download(serve: ServeStatic, docroot: Path, tmp_path: Path) -> None:
    data = os.urandom(SIZE)
    (docroot / "big.bin").write_bytes(data)
    record = AccessRecord()
    server = serve(access_log=record)
    url = f"http://127.0.0.1:{server.port}/big.bin"
    copy = tmp_path / "big.bin"

    # A slow first download, cut off part of the way through as a dropped connection would be.
    first = subprocess.Popen([curl(), "-sS", "--limit-rate", "16M", "-o", str(copy), url])
    try:
        assert wait_until(lambda: copy.exists() and copy.stat().st_size >= 4 << 20, timeout=30)
    finally:
        first.kill()
        first.wait(timeout=10)
    partial = copy.stat().st_size
    assert 0 < partial < SIZE

    resumed = subprocess.run(
        [curl(), "-sS", "--fail", "-C", "-", "-o", str(copy), url], capture_output=True, timeout=120, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    assert copy.stat().st_size == SIZE
    assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert wait_until(lambda: ("GET /big.bin HTTP/1.1", 206) in record.entries), record.entries
