"""Making a folder from the listing (``--upload``): the form's ``mkdir`` field, with the checks an
upload gets (names, hidden names, containment, ``--upload`` only), and no write of any kind from a
page of another origin (cross-site request forgery)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.integration.client import Response, request
from tests.integration.conftest import ServeStatic
from tests.integration.static_helpers import fetch
from tests.integration.test_static_curl import curl
from tests.integration.test_static_upload import BOUNDARY, form, leftovers


def post_form(port: int, target: str, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> Response:
    lines = [
        f"POST {target} HTTP/1.1",
        "Host: t",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return request(port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def mkdir(port: int, directory: str, name: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return post_form(port, directory, form([], [("mkdir", name)]), headers)


@pytest.fixture
def server(serve: ServeStatic) -> LiveServer:
    return serve(upload=True)


def test_a_folder_is_made_and_the_listing_shows_it_at_once(server: LiveServer, docroot: Path) -> None:
    assert b"new folder/" not in fetch(server.port, "/listed/").body  # the listing is now cached
    assert fetch(server.port, "/listed/new%20folder/").status == 404  # and so is this miss
    response = mkdir(server.port, "/listed/?sort=size", "new folder")
    assert (response.status, response.header("Location")) == (303, "/listed/?sort=size")
    assert (docroot / "listed" / "new folder").is_dir()
    assert b'href="new%20folder/">new folder/</a>' in fetch(server.port, "/listed/").body
    assert fetch(server.port, "/listed/new%20folder/").status == 200  # an empty listing, not the cached 404
    assert fetch(server.port, "/listed/new%20folder").status == 301


def test_the_listing_has_the_form_only_with_upload(serve: ServeStatic, server: LiveServer) -> None:
    assert b'name="mkdir"' in fetch(server.port, "/listed/").body
    assert b'name="mkdir"' not in fetch(serve().port, "/listed/").body


def test_without_upload_no_folder_is_made(serve: ServeStatic, docroot: Path) -> None:
    assert mkdir(serve().port, "/listed/", "made").status == 405
    assert not (docroot / "listed" / "made").exists()


@pytest.mark.parametrize(
    ("directory", "name", "status"),
    [
        ("/listed/", "zdir", 409),  # a folder of that name
        ("/listed/", "b.txt", 409),  # a file of that name
        ("/listed/", ".secret", 403),  # hidden names, unless --show-hidden
        ("/.git/", "objects", 403),
        ("/listed/", "a/b", 400),  # one name, not a path
        ("/listed/", "a\\b", 400),
        ("/listed/", "..", 400),
        ("/listed/", "", 400),
        ("/listed/", "tab\there", 400),
        ("/listed/", "x" * 256, 400),
        ("/missing/", "made", 409),  # no parents are made
        ("/dir-out/", "planted", 403),  # a symlink to a directory outside the root
        ("/hello.txt/", "made", 409),
    ],
)
def test_refusals(server: LiveServer, docroot: Path, directory: str, name: str, status: int) -> None:
    before = sorted(os.listdir(docroot / "listed"))
    assert mkdir(server.port, directory, name).status == status
    assert sorted(os.listdir(docroot / "listed")) == before
    assert not (docroot.parent / "outside" / "planted").exists()


def test_one_folder_at_a_time_and_files_beside_it(server: LiveServer, docroot: Path) -> None:
    body = form([], [("mkdir", "one"), ("mkdir", "two")])
    assert post_form(server.port, "/listed/", body).status == 400
    assert not (docroot / "listed" / "one").exists()
    both = post_form(server.port, "/listed/", form([("with.txt", b"file\n")], [("mkdir", "beside")]))
    assert both.status == 303
    assert (docroot / "listed" / "beside").is_dir() and (docroot / "listed" / "with.txt").read_bytes() == b"file\n"


def test_show_hidden_allows_a_dot_folder(serve: ServeStatic, docroot: Path) -> None:
    assert mkdir(serve(upload=True, show_hidden=True).port, "/", ".config").status == 303
    assert (docroot / ".config").is_dir()


def test_curl_makes_a_folder_with_a_form_field(server: LiveServer, docroot: Path) -> None:
    url = f"http://127.0.0.1:{server.port}/"
    command = [curl(), "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-F", "mkdir=from curl", url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.stdout == "303", result.stderr
    assert (docroot / "from curl").is_dir()


@pytest.mark.parametrize(
    "headers",
    [
        [("Origin", "http://evil.example")],
        [("Origin", "http://t:8080")],  # another port of this host is another origin
        [("Origin", "null")],
        [("Sec-Fetch-Site", "cross-site")],
        [("Sec-Fetch-Site", "same-site"), ("Origin", "http://t")],  # Fetch Metadata decides first
    ],
)
def test_a_page_of_another_origin_can_neither_upload_nor_make_a_folder(
    server: LiveServer, docroot: Path, headers: list[tuple[str, str]]
) -> None:
    assert mkdir(server.port, "/", "forged", headers).status == 403
    assert post_form(server.port, "/", form([("forged.txt", b"x")]), headers).status == 403
    put = request(
        server.port,
        b"PUT /forged.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n"
        + b"".join(f"{name}: {value}\r\n".encode() for name, value in headers)
        + b"\r\nx",
    )
    assert put.status == 403
    assert not (docroot / "forged").exists() and not (docroot / "forged.txt").exists()
    assert leftovers(docroot) == []


@pytest.mark.parametrize(
    "headers",
    [
        [],  # not a browser: curl, a script
        [("Origin", "http://t")],
        [("Sec-Fetch-Site", "same-origin"), ("Origin", "http://t")],
        [("Sec-Fetch-Site", "none")],  # typed by the user
    ],
)
def test_this_origin_s_pages_and_other_clients_may(
    server: LiveServer, docroot: Path, headers: list[tuple[str, str]]
) -> None:
    assert mkdir(server.port, "/", "allowed", headers).status == 303
    assert (docroot / "allowed").is_dir()
