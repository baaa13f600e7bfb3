"""Static files over real sockets: what curl, browsers and http.client see."""

from __future__ import annotations

import hashlib
import http.client
import os
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.integration.client import RawClient, request
from tests.integration.static_helpers import fetch


def get(server: LiveServer, path: str, method: str = "GET", headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_file_is_served_with_type_length_and_validators(live_server: LiveServer) -> None:
    response, body = get(live_server, "/hello.txt")
    assert response.status == 200
    assert body == b"hello world\n"
    assert response.getheader("Content-Type") == "text/plain; charset=utf-8"
    assert response.getheader("Content-Length") == "12"
    assert response.getheader("Last-Modified", "").endswith(" GMT")
    assert response.getheader("ETag", "").startswith('"')
    assert response.getheader("Date", "").endswith(" GMT")
    assert response.getheader("Server") == "reactor"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/data.json", "application/json; charset=utf-8"),
        ("/page.html", "text/html; charset=utf-8"),
        ("/1k.bin", "application/octet-stream"),
    ],
)
def test_content_type_comes_from_the_extension(live_server: LiveServer, path: str, content_type: str) -> None:
    response, _ = get(live_server, path)
    assert response.getheader("Content-Type") == content_type


def test_head_has_the_headers_of_get_and_no_body(live_server: LiveServer) -> None:
    with RawClient(live_server.port) as client:
        client.send(b"HEAD /1k.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        head = client.read_response("HEAD")
        assert head.status == 200
        assert head.header("Content-Length") == "1024"
        follow = client.read_response()
        assert follow.body == b"hello world\n", "no body bytes were sent for HEAD"


def test_missing_file_is_404_with_a_small_html_page(live_server: LiveServer) -> None:
    response, body = get(live_server, "/nope.txt")
    assert response.status == 404
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert b"404" in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_with_allow(live_server: LiveServer, method: str) -> None:
    response, _ = get(live_server, "/hello.txt", method=method)
    assert response.status == 405
    assert response.getheader("Allow") == "GET, HEAD"


def test_unknown_method_is_501(live_server: LiveServer) -> None:
    assert request(live_server.port, b"BREW /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").status == 501


def test_directory_with_index_serves_it(live_server: LiveServer) -> None:
    response, body = get(live_server, "/site/")
    assert response.status == 200
    assert b"<title>site</title>" in body


def test_directory_without_slash_redirects_keeping_the_query(live_server: LiveServer) -> None:
    response, _ = get(live_server, "/site?a=1&b=2")
    assert response.status == 301
    assert response.getheader("Location") == "/site/?a=1&b=2"


@pytest.mark.parametrize(
    "path", ["//evil.example/..//site", "//example.com/..//site", "//site", "///site", "/./site", "/listed/../site"]
)
def test_redirect_never_points_at_another_host(live_server: LiveServer, path: str) -> None:
    # CVE-2021-28861 class: whatever the slashes and dot segments, the Location is the one local path.
    response = request(live_server.port, f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert (response.status, response.header("Location")) == (301, "/site/")


@pytest.mark.parametrize("path", ["/%2F%2Fexample.com/../site", "/\\example.com/site"])
def test_an_encoded_or_backslashed_host_is_no_path_at_all(live_server: LiveServer, path: str) -> None:
    response = request(live_server.port, f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert (response.status, response.header("Location")) == (404, None)


def test_listing_sorts_directories_first_then_names_and_escapes(live_server: LiveServer) -> None:
    response, body = get(live_server, "/listed/")
    assert response.status == 200
    page = body.decode()
    names = ["zdir/", "A.txt", "b.txt", "caf\u00e9.txt", "space name.txt"]
    positions = [page.index(f">{name}<") for name in names]
    assert positions == sorted(positions)
    assert 'href="zdir/"' in page
    assert 'href="space%20name.txt"' in page
    assert 'href="caf%C3%A9.txt"' in page
    assert "&lt;b&gt;&amp;&quot;x&quot;.txt" in page
    assert "<b>&" not in page
    assert 'href="../"' in page


def test_listed_names_can_be_fetched_through_their_links(live_server: LiveServer) -> None:
    assert get(live_server, "/listed/space%20name.txt")[1] == b"space"
    assert get(live_server, "/listed/caf%C3%A9.txt")[1] == b"utf8"
    assert get(live_server, "/listed/%3Cb%3E%26%22x%22.txt")[1] == b"tricky"


@pytest.mark.parametrize(
    "target",
    [
        "/../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E/outside/secret.txt",
        "/.%2e/outside/secret.txt",
        "/..%2foutside/secret.txt",
        "/..%2Foutside%2Fsecret.txt",
        "/%2e%2e%2foutside%2fsecret.txt",
        "/..\\outside\\secret.txt",
        "/..%5coutside%5csecret.txt",
        "/listed/../../outside/secret.txt",
        "/hello.txt%00.html",
        "/%00",
        "/link-out.txt",
        "/dir-out/secret.txt",
        "/dir-out/",
        "//etc/passwd",
        "/etc/passwd",
        "http://t/../outside/secret.txt",
    ],
)
def test_nothing_outside_the_root_is_readable(live_server: LiveServer, target: str) -> None:
    response = request(live_server.port, f"GET {target} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert response.status in (400, 403, 404)
    assert b"secret" not in response.body
    assert b"root:" not in response.body


def test_symlink_inside_the_root_is_followed(live_server: LiveServer) -> None:
    assert get(live_server, "/link-in.txt")[1] == b"hello world\n"


def test_file_treated_as_a_directory_is_404(live_server: LiveServer) -> None:
    assert get(live_server, "/hello.txt/")[0].status == 404
    assert get(live_server, "/hello.txt/x")[0].status == 404


def test_if_modified_since_gives_304_without_body(live_server: LiveServer) -> None:
    first, _ = get(live_server, "/hello.txt")
    # fetch, not http.client: it fails on bytes sent after the 304's head.
    response = fetch(live_server.port, "/hello.txt", [("If-Modified-Since", first.getheader("Last-Modified", ""))])
    assert response.status == 304
    assert response.body == b""
    assert response.header("ETag") == first.getheader("ETag")


def test_large_file_arrives_byte_exact_through_sendfile(live_server: LiveServer, docroot: Path) -> None:
    data = os.urandom(64 << 20)
    (docroot / "big.bin").write_bytes(data)
    connection = http.client.HTTPConnection(live_server.host, live_server.port, timeout=30)
    connection.request("GET", "/big.bin")
    response = connection.getresponse()
    digest = hashlib.sha256()
    received = 0
    while chunk := response.read(1 << 20):
        digest.update(chunk)
        received += len(chunk)
    connection.close()
    assert received == len(data)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_target_with_raw_utf8_is_served_as_its_percent_encoded_form(live_server: LiveServer, docroot: Path) -> None:
    # curl 'http://host/café.txt?q=ü' sends the UTF-8 bytes raw; browsers send %C3%A9. Both name the
    # same file, and the raw bytes reach no path check or file system call as they came.
    (docroot / "café.txt").write_text("raw\n")
    raw = request(live_server.port, "GET /café.txt?q=ü HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    encoded = request(live_server.port, b"GET /caf%C3%A9.txt?q=%C3%BC HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (raw.status, raw.body) == (encoded.status, encoded.body) == (200, b"raw\n")
    assert request(live_server.port, "GET /?q=ü HTTP/1.1\r\nHost: t\r\n\r\n".encode()).status == 200
