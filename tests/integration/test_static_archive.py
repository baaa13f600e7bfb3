"""A folder downloaded as a .zip or .tar.gz from its listing, over real sockets: unpacked by zipfile and
tarfile and compared file by file with the tree, made as it is sent (a client that does not read stops
it, one that leaves closes its files), and a 1 GiB folder streamed with the server's memory flat."""

from __future__ import annotations

import io
import os
import socket
import tarfile
import zipfile
from pathlib import Path

import pytest

from handlers.static.archive import PIECE
from tests.integration.client import RawClient, request, start_download, wait_until
from tests.integration.conftest import ServeStatic
from tests.integration.processes import ReactorProcess
from tests.integration.static_helpers import fetch


def files_of(folder: Path, name: str, *, hidden: bool = False, symlinks_out: bool = False) -> dict[str, bytes]:
    """The regular files under ``folder`` an archive named ``name`` holds: what the listings show."""
    found = {}
    real_root = os.path.realpath(folder.parent)
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or (not hidden and any(part.startswith(".") for part in relative.parts)):
            continue
        if not symlinks_out and not os.path.realpath(path).startswith(real_root + os.sep):
            continue
        found[f"{name}/{relative.as_posix()}"] = path.read_bytes()
    return found


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}


def untar(data: bytes) -> dict[str, bytes]:
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is not None:
                files[member.name] = extracted.read()
    return files


@pytest.fixture
def folder(docroot: Path) -> Path:
    """/listed/ with more in it: a subfolder with a large file, a dot file, a symlink out."""
    listed = docroot / "listed"
    (listed / "zdir" / "inner.txt").write_text("inner\n")
    (listed / "zdir" / "large.bin").write_bytes(os.urandom(3 * PIECE + 5))
    (listed / ".secret").write_text("hidden\n")
    os.symlink(docroot.parent / "outside" / "secret.txt", listed / "out.txt")
    return listed


@pytest.mark.parametrize(("format", "unpack"), [("zip", unzip), ("tar.gz", untar)])
def test_a_folder_downloads_whole_and_as_the_listing_shows_it(serve: ServeStatic, folder: Path, format, unpack) -> None:
    server = serve()
    response = fetch(server.port, f"/listed/?download={format}")
    assert response.status == 200
    assert response.header("Content-Type") == {"zip": "application/zip", "tar.gz": "application/gzip"}[format]
    assert response.header("Content-Disposition") == (
        f"attachment; filename=\"listed.{format}\"; filename*=UTF-8''listed.{format}"
    )
    assert response.header("Transfer-Encoding") == "chunked"  # made as it is sent: no length known
    assert unpack(response.body) == files_of(folder, "listed")


def test_hidden_files_and_symlinks_out_come_with_the_flags_that_serve_them(serve: ServeStatic, folder: Path) -> None:
    server = serve(show_hidden=True, follow_symlinks=True)
    files = unzip(fetch(server.port, "/listed/?download=zip").body)
    assert files == files_of(folder, "listed", hidden=True, symlinks_out=True)
    assert files["listed/.secret"] == b"hidden\n" and files["listed/out.txt"] == b"secret"


def test_the_listing_links_both_and_no_archive_turns_them_off(serve: ServeStatic, folder: Path) -> None:
    page = fetch(serve().port, "/listed/").body
    assert b'href="?download=zip"' in page and b'href="?download=tar.gz"' in page
    server = serve(archive=False)
    assert b"?download=" not in fetch(server.port, "/listed/").body
    listing = fetch(server.port, "/listed/?download=zip")
    assert listing.header("Content-Type") == "text/html; charset=utf-8", "the listing, not an archive"


def test_the_root_a_mount_and_a_name_that_is_not_ascii(serve: ServeStatic, docroot: Path) -> None:
    (docroot / 'caf\u00e9 "menu"').mkdir()
    (docroot / 'caf\u00e9 "menu"' / "a.txt").write_text("a")
    server = serve()
    named = fetch(server.port, "/caf%C3%A9%20%22menu%22/?download=zip")
    assert named.header("Content-Disposition") == (
        "attachment; filename=\"caf_ _menu_.zip\"; filename*=UTF-8''caf%C3%A9%20%22menu%22.zip"
    )
    assert unzip(named.body) == {'caf\u00e9 "menu"/a.txt': b"a"}
    root = fetch(server.port, "/?download=tar.gz")
    assert str(root.header("Content-Disposition")).startswith('attachment; filename="root.tar.gz"')
    assert untar(root.body)["root/hello.txt"] == b"hello world\n"


def test_head_sends_the_fields_and_makes_nothing(serve: ServeStatic, folder: Path) -> None:
    response = fetch(serve().port, "/listed/?download=zip", method="HEAD")
    assert response.status == 200 and response.header("Content-Type") == "application/zip"
    assert response.body == b""


def test_an_http_1_0_client_gets_it_to_the_close(serve: ServeStatic, folder: Path) -> None:
    with RawClient(serve().port) as client:
        client.send(b"GET /listed/?download=zip HTTP/1.0\r\n\r\n")
        response = client.read_response()
    assert response.header("Transfer-Encoding") is None
    assert unzip(response.body) == files_of(folder, "listed")


def test_a_client_that_does_not_read_stops_the_making(serve: ServeStatic, docroot: Path) -> None:
    big = docroot / "big"
    big.mkdir()
    for index in range(8):  # 32 MiB: more than the kernel's socket buffers take
        (big / f"part{index}.bin").write_bytes(os.urandom(16 * PIECE))
    server = serve()
    client = start_download(server.port, "/big/?download=zip")
    try:
        high_water = server.limits.high_water
        # Backpressure: the connection waits in "writing" with at most the high-water mark and the
        # piece that crossed it queued, however long the client does not read.
        assert wait_until(lambda: "writing" in server.statistics().by_state)
        bound = high_water + 2 * PIECE
        assert not wait_until(lambda: server.statistics().queued > bound, timeout=1), "more was made"
        assert server.statistics().bytes_sent < 16 << 20, "the socket buffers hold the rest"
        while client._fill():
            if client.buffer.endswith(b"\r\n0\r\n\r\n"):
                break
        body = bytes(client.buffer).partition(b"\r\n\r\n")[2]
        files = unzip(dechunk(body))
        assert files == files_of(big, "big")
    finally:
        client.close()


def dechunk(body: bytes) -> bytes:
    parts: list[bytes] = []
    rest = body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return b"".join(parts)
        parts.append(rest[:size])
        rest = rest[size + 2 :]


def test_a_client_that_leaves_closes_the_files_the_archive_had_open(serve: ServeStatic, docroot: Path) -> None:
    big = docroot / "big"
    big.mkdir()
    (big / "large.bin").write_bytes(os.urandom(128 * PIECE))  # 32 MiB: more than the socket buffers take
    server = serve()
    before = len(os.listdir("/proc/self/fd"))
    client = start_download(server.port, "/big/?download=tar.gz")
    assert wait_until(lambda: "writing" in server.statistics().by_state)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()  # a reset: the server learns at once
    assert wait_until(lambda: server.statistics().connections == 0)
    assert wait_until(lambda: len(os.listdir("/proc/self/fd")) <= before)
    assert request(server.port, b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 200


def rss(pid: int) -> int:
    """The resident memory of process ``pid``, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.timeout(120)
def test_a_1_gib_folder_streams_with_the_server_s_memory_flat(spawn, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "big" / "inner").mkdir(parents=True)
    sizes = {"big/one.bin": 512 << 20, "big/inner/two.bin": 384 << 20, "big/inner/three.bin": 128 << 20}
    for name, size in sizes.items():
        with open(site / name, "wb") as sparse:  # holes: a gibibyte without the disk or the time to write it
            sparse.truncate(size)
            sparse.seek(size // 2)
            sparse.write(b"middle")
    (site / "small").mkdir()
    (site / "small" / "a.txt").write_text("a")
    server: ReactorProcess = spawn("-b", "127.0.0.1", "-d", str(site), "-q", "0")
    warm = fetch(server.port, "/small/?download=zip")  # threads and imports are in place before we measure
    assert warm.status == 200
    baseline = rss(server.pid)
    peak, received, tail = baseline, 0, b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"GET /big/?download=zip HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        while data := sock.recv(1 << 20):
            received += len(data)
            tail = (tail + data)[-256:]
            if received % (64 << 20) < len(data):
                peak = max(peak, rss(server.pid))
    assert received > sum(sizes.values())
    assert tail.endswith(b"\r\n0\r\n\r\n") and b"PK\x05\x06" in tail, "whole, to the end of the central directory"
    print(f"RSS {baseline >> 20} MiB before, at most {peak >> 20} MiB while {received >> 20} MiB were sent")
    assert peak - baseline < 32 << 20, f"the server grew by {(peak - baseline) >> 20} MiB while sending 1 GiB"
    assert server.stop() == 0
