"""A real framework through the gateway: a Flask application over real sockets, every request also
checked by wsgiref.validate.validator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response, request, send_file, stream_with_context

from tests.integration.client import RawClient
from tests.wsgi.helpers import wsgi_server

pytestmark = [
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("error::wsgiref.validate.WSGIWarning"),
    pytest.mark.parametrize("threads", [4, 0], ids=["threaded", "inline"]),
]

FORM = "application/x-www-form-urlencoded"


def make_app(download: Path) -> Flask:
    app = Flask("reactor-test")

    @app.get("/")
    def index() -> str:
        return "index"

    @app.get("/hello/<name>")
    def hello(name: str) -> str:
        return f"hello {name}"

    @app.post("/form")
    def form() -> str:
        return f"{request.form['a']}+{request.form['b']} ({request.content_length} bytes)"

    @app.get("/stream")
    def stream() -> Response:
        def lines() -> Iterator[str]:
            for number in range(int(request.args["n"])):
                yield f"line {number}\n"

        return Response(stream_with_context(lines()), mimetype="text/plain")

    @app.get("/download")
    def download_file() -> Response:
        return send_file(download, mimetype="application/octet-stream")

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("the view failed")

    return app


@pytest.fixture
def download(tmp_path: Path) -> Path:
    path = tmp_path / "download.bin"
    path.write_bytes(os.urandom(256 * 1024))
    return path


def get(client: RawClient, target: str, method: str = "GET") -> tuple[int, bytes]:
    client.send(f"{method} {target} HTTP/1.1\r\nHost: flask.test\r\n\r\n".encode())
    response = client.read_response(method)
    return response.status, response.body


def test_routing(threads: int, download: Path) -> None:
    with wsgi_server(make_app(download), threads) as server, RawClient(server.port) as client:
        assert get(client, "/") == (200, b"index")
        assert get(client, "/hello/caf%C3%A9") == (200, "hello café".encode())
        assert get(client, "/missing")[0] == 404
        client.send(b"DELETE / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().status == 405


def test_a_form_post(threads: int, download: Path) -> None:
    # Content-Length only: for a chunked body Werkzeug calls wsgi.input.read() without a size, which
    # wsgiref.validate refuses (PEP 3333 lists read(size)); tests/integration/test_wsgi_gateway.py
    # covers chunked bodies.
    with wsgi_server(make_app(download), threads) as server, RawClient(server.port) as client:
        body = b"a=1&b=caf%C3%A9"
        client.send(
            b"POST /form HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (FORM.encode(), len(body), body)
        )
        response = client.read_response()
        assert (response.status, response.body) == (200, "1+café (15 bytes)".encode())


def test_a_streamed_response(threads: int, download: Path) -> None:
    with wsgi_server(make_app(download), threads) as server, RawClient(server.port) as client:
        client.send(b"GET /stream?n=500 HTTP/1.1\r\nHost: t\r\n\r\n")
        response = client.read_response()
        assert response.header("Transfer-Encoding") == "chunked"
        assert response.body == b"".join(b"line %d\n" % number for number in range(500))


def test_send_file_goes_through_the_file_wrapper_to_sendfile(
    threads: int, download: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent_from: list[str] = []
    real_sendfile = os.sendfile

    def spy(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        sent_from.append(os.readlink(f"/proc/self/fd/{in_fd}"))
        return real_sendfile(out_fd, in_fd, offset, count)

    monkeypatch.setattr(os, "sendfile", spy)
    with wsgi_server(make_app(download), threads) as server, RawClient(server.port) as client:
        status, body = get(client, "/download")
        assert (status, body) == (200, download.read_bytes())
        assert sent_from and set(sent_from) == {str(download)}
        status, body = get(client, "/download", "HEAD")  # the same connection goes on
        assert (status, body) == (200, b"")
        assert get(client, "/") == (200, b"index"), "no body bytes were sent for HEAD"


def test_an_exception_in_a_view_is_a_500(threads: int, download: Path) -> None:
    app = make_app(download)
    with wsgi_server(app, threads) as server, RawClient(server.port) as client:
        assert get(client, "/boom")[0] == 500  # Flask's own error handler
        assert get(client, "/") == (200, b"index")
    app.config["PROPAGATE_EXCEPTIONS"] = True  # now the exception leaves the app: the gateway answers
    with wsgi_server(app, threads, expect_errors=True) as server, RawClient(server.port) as client:
        assert get(client, "/boom")[0] == 500
        assert get(client, "/") == (200, b"index")
    assert any("the view failed" in line for line in server.logged)
