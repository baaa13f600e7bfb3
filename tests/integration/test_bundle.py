"""The README's first commands, as a newcomer runs them: the one-file server built in the clone, then
run from another folder by a Python with nothing installed (no PYTHONPATH, no site-packages)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration.client import Response, request
from tests.integration.processes import ENV, REPO


def first_commands() -> list[str]:
    """The commands of README.md's first shell block, comments dropped."""
    block = re.search(r"## Serve a folder\n\n```sh\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert block, "README.md starts with a 'Serve a folder' shell block"
    return [line.partition("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def get(port: int, target: str) -> Response:
    return request(port, f"GET {target} HTTP/1.1\r\nHost: t\r\n\r\n".encode())


def test_the_first_commands_of_the_readme_serve_any_folder_with_nothing_installed(tmp_path: Path) -> None:
    build, run = first_commands()
    assert build == "python3 -m reactor.bundle ~/reactor.pyz"
    assert run == "cd ~/photos && python3 ~/reactor.pyz"
    home = tmp_path / "home"
    (home / "photos" / "holiday").mkdir(parents=True)
    (home / "photos" / "holiday" / "beach.jpg").write_bytes(b"\xff\xd8 not really a photo")

    home_env = {**ENV, "HOME": str(home)}
    built = subprocess.run(["bash", "-c", build], cwd=REPO, env=home_env, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    bundle = home / "reactor.pyz"
    assert bundle.stat().st_size < 1 << 20

    # A machine with Python alone: the interpreter isolated from the environment and site-packages.
    python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or sys.executable
    fresh = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home)}
    command = [python, "-I", "-S", str(bundle), "-b", "127.0.0.1", "--status-path", "/-/status", "0"]
    stderr = (tmp_path / "stderr.txt").open("wb")
    server = subprocess.Popen(command, cwd=home / "photos", env=fresh, stdout=subprocess.PIPE, stderr=stderr)
    assert server.stdout is not None
    try:
        banner = server.stdout.readline().decode()
        found = re.search(r" port (\d+) ", banner)
        assert found, banner + (tmp_path / "stderr.txt").read_text()
        port = int(found[1])
        assert get(port, "/holiday/beach.jpg").body == b"\xff\xd8 not really a photo"
        listing = get(port, "/holiday/").body.decode()
        stylesheet = re.search(r'href="(\?style=\w+)"', listing)
        assert stylesheet and get(port, "/holiday/" + stylesheet[1]).header("Content-Type") == "text/css; charset=utf-8"
        assert get(port, "/-/status.js").status == 200  # the pages' files travel in the bundle
        assert get(port, "/holiday/?download=zip").header("Content-Type") == "application/zip"
    finally:
        server.terminate()
        assert server.wait(timeout=20) == 0
        server.stdout.close()
        stderr.close()
    version = subprocess.run(
        [python, "-I", "-S", str(bundle), "--version"], env=fresh, capture_output=True, text=True, check=False
    )
    assert version.stdout.startswith("python -m reactor ")
    assert not os.path.exists(home / "photos" / "__pycache__")
