"""Uploads over real sockets: PUT and multipart forms from http.client, curl -T, curl -F and raw
bytes; every refusal a clear status, and nothing half-written left on disk after any of them."""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from handlers.flags import startup_warnings
from handlers.static.options import StaticOptions
from handlers.static.staticfiles import StaticFiles
from handlers.upload.uploads import UploadError, _store
from reactor.limits import Limits
from tests.conftest import LiveServer
from tests.integration.client import RawClient, wait_until
from tests.integration.conftest import ServeStatic
from tests.integration.processes import ReactorProcess, run_cli
from tests.integration.static_helpers import fetch
from tests.integration.test_static_curl import curl

BOUNDARY = "----reactortestboundary"


def leftovers(root: Path) -> list[str]:
    """Temporary upload files anywhere under ``root``."""
    return [str(path) for path in root.rglob(".upload-*")]


@pytest.fixture
def server(serve: ServeStatic) -> LiveServer:
    return serve(upload=True)


def put(port: int, target: str, body: bytes, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("PUT", target, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def form(files: list[tuple[str, bytes]], fields: Sequence[tuple[str, str]] = ()) -> bytes:
    body = b""
    for name, value in fields:
        body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for filename, content in files:
        body += (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    return body + f"--{BOUNDARY}--\r\n".encode()


def post(
    port: int, target: str, body: bytes, content_type: str = f"multipart/form-data; boundary={BOUNDARY}"
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", target, body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_put_creates_a_file_with_201_and_location(server: LiveServer, docroot: Path) -> None:
    response = put(server.port, "/listed/new%20file.txt", b"fresh\n")
    assert response.status == 201
    assert response.getheader("Location") == "/listed/new%20file.txt"
    assert (docroot / "listed" / "new file.txt").read_bytes() == b"fresh\n"
    assert fetch(server.port, "/listed/new%20file.txt").body == b"fresh\n"  # served at once, not in a second
    assert b"new file.txt" in fetch(server.port, "/listed/").body
    assert leftovers(docroot) == []


def test_put_of_an_empty_body_and_a_chunked_one(server: LiveServer, docroot: Path) -> None:
    assert put(server.port, "/empty.txt", b"").status == 201
    assert (docroot / "empty.txt").read_bytes() == b""
    with RawClient(server.port) as client:
        client.send(b"PUT /chunked.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        client.send(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        assert client.read_response().status == 201
    assert (docroot / "chunked.txt").read_bytes() == b"hello world"


def test_put_over_an_existing_file_is_409_and_leaves_it(server: LiveServer, docroot: Path) -> None:
    response = put(server.port, "/hello.txt", b"replaced")
    assert response.status == 409
    assert (docroot / "hello.txt").read_bytes() == b"hello world\n"
    assert put(server.port, "/listed/zdir", b"x").status == 409  # a directory of that name
    assert leftovers(docroot) == []


def test_overwrite_replaces_with_204(serve: ServeStatic, docroot: Path) -> None:
    server = serve(upload=True, upload_overwrite=True)
    assert fetch(server.port, "/hello.txt").body == b"hello world\n"  # now in the file cache
    response = put(server.port, "/hello.txt", b"replaced\n")
    assert response.status == 204
    assert (docroot / "hello.txt").read_bytes() == b"replaced\n"
    assert fetch(server.port, "/hello.txt").body == b"replaced\n"
    assert put(server.port, "/listed/zdir", b"x").status == 409  # never a directory


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/.env", 403),
        ("/listed/.hidden", 403),
        ("/.git/config", 403),
        ("/missing/dir/file.txt", 409),
        ("/dir-out/planted.txt", 403),  # a symlink to a directory outside the root
        ("/../outside.txt", 403),
        ("/listed/", 405),
        ("/a%2fb.txt", 404),
        ("/" + "x" * 256, 400),  # longer than any file system takes: said before the body, not a 500 after
    ],
)
def test_put_refusals(server: LiveServer, docroot: Path, target: str, status: int) -> None:
    assert put(server.port, target, b"nope").status == status
    assert not (docroot.parent / "outside" / "planted.txt").exists()
    assert not (docroot / ".env").exists()
    assert leftovers(docroot.parent) == []


def test_show_hidden_allows_dot_names(serve: ServeStatic, docroot: Path) -> None:
    server = serve(upload=True, show_hidden=True)
    assert put(server.port, "/.env", b"A=1\n").status == 201
    assert (docroot / ".env").read_bytes() == b"A=1\n"


def test_without_upload_put_and_post_are_405(serve: ServeStatic, docroot: Path) -> None:
    server = serve()
    for method in ("PUT", "POST"):
        response = fetch(server.port, "/new.txt", [("Content-Length", "0")], method=method)
        assert response.status == 405
        assert response.header("Allow") == "GET, HEAD"
    assert not (docroot / "new.txt").exists()
    assert b"<form" not in fetch(server.port, "/listed/").body


def test_with_upload_allow_names_put_and_post(server: LiveServer) -> None:
    assert fetch(server.port, "/hello.txt", method="DELETE").header("Allow") == "GET, HEAD, PUT, POST"


def test_a_body_over_max_body_is_413_and_leaves_nothing(docroot: Path) -> None:
    server = LiveServer(StaticFiles(str(docroot), StaticOptions(upload=True)), Limits(max_body=1000))
    try:
        assert put(server.port, "/big.bin", bytes(1001)).status == 413  # Content-Length: refused up front
        refused = fetch(server.port, "/big.bin", [("Content-Length", "1001")], method="PUT")
        assert refused.status == 413 and b"over the limit of 1000 bytes" in refused.body
        with RawClient(server.port) as client:  # chunked: refused once it passes the limit
            client.send(b"PUT /big.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            client.send(b"200\r\n" + bytes(512) + b"\r\n")
            client.send(b"200\r\n" + bytes(512) + b"\r\n")
            refused = client.read_response()
            assert refused.status == 413 and b"over the limit of 1000 bytes" in refused.body
        assert wait_until(lambda: leftovers(docroot) == [])
        assert not (docroot / "big.bin").exists()
    finally:
        server.stop()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_client_gone_mid_upload_leaves_nothing(server: LiveServer, docroot: Path, framing: str) -> None:
    client = RawClient(server.port)
    if framing == "chunked":
        client.send(b"PUT /partial.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        client.send(b"400\r\n" + bytes(1024) + b"\r\n")
    else:
        client.send(b"PUT /partial.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + bytes(1024))
    assert wait_until(lambda: len(leftovers(docroot)) == 1)  # the temporary file is there...
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()  # ...and a reset takes it away
    assert wait_until(lambda: leftovers(docroot) == [])
    assert not (docroot / "partial.bin").exists()


def test_a_form_stores_every_file_and_303s_to_the_listing(server: LiveServer, docroot: Path) -> None:
    body = form([("one.txt", b"first\n"), ("two.bin", bytes(range(256)) * 40)], [("note", "ignored")])
    response = post(server.port, "/listed/?sort=size", body)
    assert response.status == 303
    assert response.getheader("Location") == "/listed/?sort=size"
    assert (docroot / "listed" / "one.txt").read_bytes() == b"first\n"
    assert (docroot / "listed" / "two.bin").read_bytes() == bytes(range(256)) * 40
    listing = fetch(server.port, "/listed/?sort=size").body
    assert b"one.txt" in listing and b"two.bin" in listing
    assert not (docroot / "listed" / "note").exists()
    assert leftovers(docroot) == []


def test_a_form_file_name_is_only_its_last_component(server: LiveServer, docroot: Path) -> None:
    body = form([("C:\\Users\\me\\win.txt", b"w"), ("../../up.txt", b"u"), ("say %22hi%22.txt", b"q")])
    assert post(server.port, "/", body).status == 303
    assert (docroot / "win.txt").read_bytes() == b"w"
    assert (docroot / "up.txt").read_bytes() == b"u"
    assert (docroot / 'say "hi".txt').read_bytes() == b"q"
    assert not (docroot.parent / "up.txt").exists()


@pytest.mark.parametrize(
    ("target", "body", "content_type", "status"),
    [
        ("/listed/", b"a=b", "application/x-www-form-urlencoded", 415),
        ("/listed/", b"plain", "text/plain", 415),
        ("/listed/", b"--x\r\nbroken", "multipart/form-data; boundary=x", 400),
        ("/listed/", b"", "multipart/form-data", 400),  # no boundary
        ("/listed/", form([]), f"multipart/form-data; boundary={BOUNDARY}", 400),  # no file in it
        ("/listed/", form([(".secret", b"s")]), f"multipart/form-data; boundary={BOUNDARY}", 403),
        ("/listed/", form([("b.txt", b"s")]), f"multipart/form-data; boundary={BOUNDARY}", 409),  # exists
        ("/listed/", form([("d.txt", b"1"), ("d.txt", b"2")]), f"multipart/form-data; boundary={BOUNDARY}", 409),
        ("/listed/", form([("bad\x01.txt", b"1")]), f"multipart/form-data; boundary={BOUNDARY}", 400),
        ("/nowhere/", form([("n.txt", b"1")]), f"multipart/form-data; boundary={BOUNDARY}", 409),
        ("/hello.txt", form([("n.txt", b"1")]), f"multipart/form-data; boundary={BOUNDARY}", 409),
    ],
)
def test_form_refusals_leave_nothing(
    server: LiveServer, docroot: Path, target: str, body: bytes, content_type: str, status: int
) -> None:
    before = sorted(os.listdir(docroot / "listed"))
    assert post(server.port, target, body, content_type).status == status
    assert sorted(os.listdir(docroot / "listed")) == before
    assert (docroot / "listed" / "b.txt").read_text() == "b"
    assert leftovers(docroot) == []


def test_a_form_that_fails_half_way_removes_the_files_it_began(server: LiveServer, docroot: Path) -> None:
    # The first file is whole, the second clashes with an existing name: neither is stored.
    assert post(server.port, "/listed/", form([("fine.txt", b"ok"), ("A.txt", b"clash")])).status == 409
    assert not (docroot / "listed" / "fine.txt").exists()
    assert (docroot / "listed" / "A.txt").read_text() == "a"
    assert leftovers(docroot) == []


def test_curl_t_and_curl_f(server: LiveServer, docroot: Path, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(300_000))
    url = f"http://127.0.0.1:{server.port}"
    put_result = subprocess.run(
        [curl(), "-sS", "--fail", "-T", str(source), f"{url}/listed/put.bin"],
        check=False,
        capture_output=True,
        timeout=30,
    )
    assert put_result.returncode == 0, put_result.stderr
    assert (docroot / "listed" / "put.bin").read_bytes() == source.read_bytes()
    form_result = subprocess.run(
        [
            curl(),
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-F",
            f"file=@{source}",
            f"{url}/listed/",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert form_result.stdout == f"303 {url}/listed/", form_result.stderr
    assert (docroot / "listed" / "source.bin").read_bytes() == source.read_bytes()
    clash = subprocess.run(
        [curl(), "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(source), f"{url}/listed/put.bin"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert clash.stdout == "409"
    assert leftovers(docroot) == []


def test_the_listing_has_the_form_only_with_upload(server: LiveServer) -> None:
    page = fetch(server.port, "/listed/").body
    assert b'<form method="post" enctype="multipart/form-data">' in page
    assert b'<input type="file" name="file" multiple required>' in page
    assert b"<form" not in fetch(server.port, "/listed/", [("Accept", "application/json")]).body


def test_upload_on_a_non_loopback_address_warns(spawn: Callable[..., ReactorProcess], docroot: Path) -> None:
    quiet = spawn("-b", "127.0.0.1", "-d", str(docroot), "--upload", "0")
    assert fetch(quiet.port, "/hello.txt").status == 200  # serving: its signal handlers are in place
    assert quiet.stop() == 0
    assert "WARNING --upload" not in quiet.stderr_path.read_text()
    loud = spawn("-b", "0.0.0.0", "-d", str(docroot), "--upload", "0")
    assert fetch(loud.port, "/hello.txt").status == 200
    assert loud.stop() == 0
    warning = "WARNING --upload on 0.0.0.0 without --auth-file: anyone who can reach this port can write files"
    assert warning in loud.stderr_path.read_text()


def test_upload_overwrite_without_upload_is_one_line_and_exit_2(docroot: Path) -> None:
    result = run_cli("-b", "127.0.0.1", "-d", str(docroot), "--upload-overwrite", "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "add --upload" in result.stderr


@pytest.mark.parametrize(
    ("host", "warned"),
    [("127.0.0.1", False), ("127.0.0.2", False), ("::1", False), ("0.0.0.0", True), ("::", True), ("192.0.2.7", True)],
)
def test_startup_warnings_name_uploads_off_loopback(host: str, warned: bool) -> None:
    assert bool(startup_warnings(argparse.Namespace(upload=True, auth_file=None), host)) is warned
    assert startup_warnings(argparse.Namespace(upload=False, auth_file=None), host) == []
    # With passwords asked for, the warning is that they cross the network in the clear.
    with_auth = startup_warnings(argparse.Namespace(upload=True, auth_file="users.txt"), host)
    assert [warning for warning in with_auth if "--upload" in warning] == []
    assert any("passwords cross the network" in warning for warning in with_auth) is warned


def test_a_client_gone_mid_form_leaves_nothing(server: LiveServer, docroot: Path) -> None:
    whole = form([("done.txt", b"complete"), ("half.bin", bytes(4096))])
    client = RawClient(server.port)
    head = (
        f"POST /listed/ HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(whole)}\r\n\r\n"
    ).encode()
    client.send(head + whole[: len(whole) - 1000])  # the first file whole, the second begun
    assert wait_until(lambda: len(leftovers(docroot)) == 2)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()
    assert wait_until(lambda: leftovers(docroot) == [])
    assert not (docroot / "listed" / "done.txt").exists()
    assert not (docroot / "listed" / "half.bin").exists()


def test_a_name_taken_while_the_body_arrived_is_409_at_the_move(docroot: Path) -> None:
    """The no-clobber move is a hard link: a file created meanwhile under the name is kept."""
    uploads = StaticFiles(str(docroot), StaticOptions(upload=True))._uploads
    assert uploads is not None
    target = uploads.new_target(str(docroot), "late.txt", "/late.txt")
    os.write(target.fd, b"ours")
    (docroot / "late.txt").write_bytes(b"theirs")
    with pytest.raises(UploadError) as raised:
        _store([target], overwrite=False)
    assert raised.value.status == 409
    assert (docroot / "late.txt").read_bytes() == b"theirs"
    assert leftovers(docroot) == []


def test_uploads_take_real_files_by_default_and_a_413_names_the_limit_and_its_flag(spawn, docroot: Path) -> None:
    # A photo is more than nginx's 1 MiB: with --upload (and no --max-body) the limit is 4 GiB, and
    # the banner says so.
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "--upload", "0")
    assert server.process.stdout is not None
    assert "uploads up to 4.0 GiB" in server.process.stdout.readline().decode()
    photo = os.urandom(3 * 1024 * 1024)
    assert put(server.port, "/photo.jpg", photo).status == 201
    assert (docroot / "photo.jpg").read_bytes() == photo
    refused = fetch(server.port, "/huge.iso", [("Content-Length", str(5 << 30)), ("Expect", "100-continue")], "PUT")
    assert refused.status == 413
    assert b"over the limit of 4294967296 bytes (--max-body raises it)" in refused.body
    assert server.stop() == 0


def test_without_upload_the_413_names_the_limit_and_its_flag_too(spawn, docroot: Path) -> None:
    server = spawn("-b", "127.0.0.1", "-d", str(docroot), "-q", "0")
    refused = fetch(server.port, "/hello.txt", [("Content-Length", str(2 << 20))], "POST")
    assert refused.status == 413
    assert b"over the limit of 1048576 bytes (--max-body raises it)" in refused.body
    assert server.stop() == 0
