"""What the reverse proxy changes in the messages it passes on: the target (nginx's proxy_pass rule) and
the fields both ways (RFC 9110 7.6)."""

from __future__ import annotations

import pytest

from handlers.proxy.proxyfields import backend_target, request_fields, response_fields, wants_upgrade
from reactor.http.client import ResponseHead
from reactor.http.events import Headers, Request
from tests.http.helpers import make_connection


def parse(head: bytes) -> Request:
    connection = make_connection()
    connection.receive_data(head)
    request = connection.next_event()
    assert isinstance(request, Request)
    return request


def get(target: str, *fields: str, version: str = "HTTP/1.1") -> Request:
    lines = "".join(f"{field}\r\n" for field in fields)
    return parse(f"GET {target} {version}\r\nHost: site.test:8000\r\n{lines}\r\n".encode())


@pytest.mark.parametrize(
    ("target", "path", "expected"),
    [
        ("/api/users?id=1", None, "/api/users?id=1"),  # no path: the target as received
        ("/api", None, "/api"),
        ("/api/users?id=1", "/", "/users?id=1"),  # a path, even "/", replaces the prefix
        ("/api", "/", "/"),
        ("/api/", "/", "/"),
        ("/api?x=1", "/", "/?x=1"),
        ("/api/users", "/v1", "/v1/users"),  # joined with exactly one "/"
        ("/api/users", "/v1/", "/v1/users"),
        ("/api//users", "/v1/", "/v1/users"),
        ("/api", "/v1", "/v1"),
        ("/api/a%2Fb?q=%20", "/v1", "/v1/a%2Fb?q=%20"),  # percent-encoding passes untouched
        ("/api/x?", None, "/api/x?"),
    ],
)
def test_the_target_follows_nginx_proxy_pass(target: str, path: str | None, expected: str) -> None:
    assert backend_target(get(target), "/api", path) == expected


def test_an_absolute_form_target_is_asked_for_in_origin_form() -> None:
    request = get("http://elsewhere.test/api/x?y=2")
    assert backend_target(request, "/api", None) == "/api/x?y=2"
    assert backend_target(request, "/api", "/") == "/x?y=2"


def test_hop_by_hop_fields_and_those_connection_names_are_dropped() -> None:
    request = get(
        "/api/x",
        "Connection: keep-alive, X-Secret-Hop",
        "Keep-Alive: timeout=5",
        "Proxy-Connection: keep-alive",
        "TE: trailers",
        "Trailer: X-Checksum",
        "Upgrade: h2c",
        "Proxy-Authorization: Basic eDp5",
        "X-Secret-Hop: 1",
        "Accept: text/html",
        "Cookie: a=1",
    )
    fields = request_fields(request, "192.0.2.7", "http", None, "backend:5000")
    names = [name for name, _ in fields]
    assert names == [
        "host",
        "accept",
        "cookie",
        "x-forwarded-host",
        "x-forwarded-for",
        "x-forwarded-proto",
        "via",
    ]
    assert dict(fields) == {
        "host": "site.test:8000",
        "accept": "text/html",
        "cookie": "a=1",
        "x-forwarded-host": "site.test:8000",
        "x-forwarded-for": "192.0.2.7",
        "x-forwarded-proto": "http",
        "via": "1.1 reactor",
    }


def test_forwarded_values_from_the_client_are_replaced_not_trusted() -> None:
    request = get("/api", "X-Forwarded-For: 10.0.0.1", "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.test")
    fields = request_fields(request, "192.0.2.7", "http", None, "backend:5000")
    assert [value for name, value in fields if name.startswith("x-forwarded-")] == [
        "site.test:8000",
        "192.0.2.7",
        "http",
    ]


def test_via_is_appended_to_the_via_a_request_came_with_and_names_its_version() -> None:
    fields = request_fields(get("/api", "Via: 1.1 cdn"), "192.0.2.7", "https", None, "backend:5000")
    assert [value for name, value in fields if name == "via"] == ["1.1 cdn", "1.1 reactor"]
    old = request_fields(get("/api", version="HTTP/1.0"), "192.0.2.7", "http", None, "backend:5000")
    assert ("via", "1.0 reactor") in old


def test_a_request_without_host_names_the_backend() -> None:
    request = parse(b"GET /api HTTP/1.0\r\n\r\n")
    fields = request_fields(request, "192.0.2.7", "http", None, "backend:5000")
    assert fields[0] == ("host", "backend:5000")
    assert "x-forwarded-host" not in dict(fields)


def test_framing_and_expect_are_ours() -> None:
    request = parse(
        b"POST /api HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
    )
    names = [name for name, _ in request_fields(request, "192.0.2.7", "http", None, "backend:5000")]
    assert "content-length" not in names and "expect" not in names


def test_an_upgrade_is_asked_for_again() -> None:
    request = get(
        "/api/ws",
        "Connection: keep-alive, Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    )
    upgrade = wants_upgrade(request)
    assert upgrade == "websocket"
    fields = request_fields(request, "192.0.2.7", "http", upgrade, "backend:5000")
    assert fields[-2:] == [("connection", "upgrade"), ("upgrade", "websocket")]
    assert ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==") in fields


@pytest.mark.parametrize(
    "request_",
    [
        get("/ws", "Upgrade: websocket"),  # not named in Connection
        get("/ws", "Connection: upgrade"),  # no protocol
        get("/ws", "Connection: upgrade", "Upgrade: websocket", version="HTTP/1.0"),
        parse(b"POST /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 1\r\n\r\nx"),
    ],
)
def test_what_is_not_an_upgrade(request_: Request) -> None:
    assert wants_upgrade(request_) is None


def head(status: int, *fields: tuple[str, str], version: str = "HTTP/1.1") -> ResponseHead:
    return ResponseHead(status, version, Headers(fields), None, False)


def test_response_fields_lose_hop_by_hop_framing_date_and_server_and_gain_via() -> None:
    response = head(
        200,
        ("date", "Mon, 01 Jan 2024 00:00:00 GMT"),
        ("server", "Werkzeug/3.0"),
        ("connection", "keep-alive, x-hop"),
        ("keep-alive", "timeout=5"),
        ("x-hop", "1"),
        ("transfer-encoding", "chunked"),
        ("content-length", "5"),
        ("proxy-authenticate", "Basic"),
        ("content-type", "text/plain"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("via", "1.0 backend-proxy"),
    )
    assert response_fields(response) == [
        ("content-type", "text/plain"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("via", "1.0 backend-proxy"),
        ("via", "1.1 reactor"),
    ]
    assert response_fields(head(200, version="HTTP/1.0")) == [("via", "1.0 reactor")]


def test_a_101_passes_connection_and_upgrade_on() -> None:
    accept = ("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    response = head(101, ("upgrade", "websocket"), ("connection", "Upgrade"), accept)
    assert response_fields(response) == [
        accept,
        ("via", "1.1 reactor"),
        ("connection", "upgrade"),
        ("upgrade", "websocket"),
    ]
