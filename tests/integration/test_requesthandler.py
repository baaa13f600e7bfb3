"""The BaseHTTPRequestHandler-style API over real sockets: the seed's do_GET handler unchanged,
bodies through rfile, streaming with a Content-Length, errors, and the HTTPServer facade."""

from __future__ import annotations

import http.server
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from examples.hello_handler import CustomHTTPRequestHandler
from handlers.requesthandler import BaseHTTPRequestHandler, HandlerClassAdapter, HTTPServer
from tests.conftest import LiveServer
from tests.integration.client import RawClient, request


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        logged.append(format % args)

    def do_GET(self) -> None:
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            for _ in range(5):
                self.wfile.write(b"ab")
            return
        if self.path == "/boom":
            raise RuntimeError("handler bug")
        if self.path == "/nothing":
            return
        body = f"{self.command} {self.path} {self.headers['X-Test']} {self.client_address[0]}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201, "Made")
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(data[::-1])

    def do_HEAD(self) -> None:
        if self.path == "/bare":  # headers only: nothing says how long GET's body would be
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "1234")
        self.end_headers()


logged: list[str] = []


@pytest.fixture
def server() -> Iterator[LiveServer]:
    logged.clear()
    live = LiveServer(HandlerClassAdapter(Handler))
    yield live
    live.stop()


def test_the_seed_handler_runs_unchanged() -> None:
    live = LiveServer(HandlerClassAdapter(CustomHTTPRequestHandler))
    try:
        with RawClient(live.port) as client:
            for _ in range(2):  # and keeps the connection alive, with a Content-Length
                client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                response = client.read_response()
                assert (response.status, response.body) == (200, b"hello world")
                assert response.header("Content-type") == "text/html"
                assert response.header("Content-Length") == "11"
    finally:
        live.stop()
    assert issubclass(CustomHTTPRequestHandler, http.server.BaseHTTPRequestHandler)


def test_request_attributes_and_the_log_line(server: LiveServer) -> None:
    response = request(server.port, b"GET /p?q=1 HTTP/1.1\r\nHost: t\r\nX-Test: yes\r\n\r\n")
    assert response.body == b"GET /p?q=1 yes 127.0.0.1"
    assert logged == ['"GET /p?q=1 HTTP/1.1" 200 -']


def test_post_body_through_rfile_and_a_status_without_its_reason(server: LiveServer) -> None:
    response = request(server.port, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nabcde")
    assert (response.status, response.reason, response.body) == (201, "Created", b"edcba")
    chunked = request(
        server.port, b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
    )
    assert chunked.status == 500  # Content-Length is None: int(None) fails in do_POST, as in the stdlib


def test_with_a_content_length_writes_stream_out(server: LiveServer) -> None:
    response = request(server.port, b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (response.header("Content-Length"), response.body) == ("10", b"ababababab")


def test_head_without_a_body(server: LiveServer) -> None:
    with RawClient(server.port) as client:
        client.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response("HEAD").header("Content-Length") == "1234"
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().status == 200


def test_head_that_writes_nothing_claims_no_content_length(server: LiveServer) -> None:
    # RFC 9110 8.6: a HEAD response's Content-Length must be GET's; "0" would be a guess.
    with RawClient(server.port) as client:
        client.send(b"HEAD /bare HTTP/1.1\r\nHost: t\r\n\r\n")
        response = client.read_response("HEAD")
        assert (response.status, response.header("Content-Length")) == (200, None)
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().status == 200, "and the connection goes on"


def test_a_method_without_do_method_is_501_as_in_the_stdlib(server: LiveServer) -> None:
    response = request(server.port, b"PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
    assert response.status == 501
    assert b"Unsupported method ('PUT')" in response.body
    assert response.header("Connection") == "close"


def test_a_handler_that_raises_or_sends_nothing_gets_a_500(server: LiveServer) -> None:
    with RawClient(server.port) as client:
        client.send(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().status == 500
        client.send(b"GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().status == 500


def test_the_http_server_facade_serves_forever_until_shutdown() -> None:
    httpd = HTTPServer(("127.0.0.1", 0), CustomHTTPRequestHandler)
    serving = threading.Thread(target=httpd.serve_forever)
    serving.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{httpd.server_address[1]}/", timeout=10) as response:
            assert response.read() == b"hello world"
    finally:
        httpd.shutdown()
        serving.join(10)
        httpd.server_close()
    assert not serving.is_alive()
