"""The WSGI gateway over real sockets, with plain WSGI applications, each checked by wsgiref.validate:
environ, wsgi.input and its flow control, start_response rules, framing, backpressure, close()."""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.client import RawClient, request, wait_until
from tests.wsgi.helpers import wsgi_server

pytestmark = [
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("error::wsgiref.validate.WSGIWarning"),
]

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], object]]
BOTH_MODES = pytest.mark.parametrize("threads", [4, 0], ids=["threaded", "inline"])


def text(body: bytes, status: str = "200 OK") -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response(status, [("Content-Type", "text/plain")])
        return [body]

    return app


def echo_environ(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Answers with the environ's str, int and bool values as JSON."""
    shown = {key: value for key, value in environ.items() if isinstance(value, (str, bool, int, tuple))}
    body = json.dumps(shown).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def echo_body(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Answers with the request body read in 1000-byte pieces."""
    stream = environ["wsgi.input"]
    pieces = []
    while piece := stream.read(1000):
        pieces.append(piece)
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [b"".join(pieces)]


# -- environ ----------------------------------------------------------------------------------------


@BOTH_MODES
def test_environ_carries_the_request_as_pep_3333_says(threads: int) -> None:
    with wsgi_server(echo_environ, threads) as server:
        response = request(
            server.port,
            b"POST /caf%C3%A9/a%20b%2Fc?x=1&y=%20 HTTP/1.1\r\nHost: example.test:8080\r\n"
            b"Content-Type: text/plain\r\nContent-Length: 3\r\nAccept: a\r\nAccept: b\r\n"
            b"Cookie: a=1\r\nCookie: b=2\r\nX-Auth_User: spoof\r\nX-Custom: v\r\n\r\nabc",
        )
    environ = json.loads(response.body)
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SCRIPT_NAME"] == ""
    # The UTF-8 bytes of "café", each as one latin-1 character; %2F decoded as in every WSGI server.
    assert environ["PATH_INFO"] == "/caf\u00c3\u00a9/a b/c"
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == "/café/a b/c"
    assert environ["QUERY_STRING"] == "x=1&y=%20"
    assert environ["REQUEST_URI"] == "/caf%C3%A9/a%20b%2Fc?x=1&y=%20"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", str(server.port))
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "3"
    assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ
    assert environ["HTTP_HOST"] == "example.test:8080"
    assert environ["HTTP_ACCEPT"] == "a, b"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["HTTP_X_CUSTOM"] == "v"
    assert "HTTP_X_AUTH_USER" not in environ  # a name with "_" could pass for X-Auth-User
    assert environ["wsgi.version"] == [1, 0]
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["wsgi.multithread"] is (threads > 1)
    assert environ["wsgi.multiprocess"] is False
    assert environ["wsgi.run_once"] is False
    assert "wsgi.input_terminated" not in environ  # CONTENT_LENGTH bounds the body


def test_one_worker_thread_is_not_multithreaded() -> None:
    with wsgi_server(echo_environ, threads=1) as server:
        response = request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert json.loads(response.body)["wsgi.multithread"] is False


def test_the_app_runs_on_a_worker_thread_or_on_the_loop_thread() -> None:
    seen: list[str] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        seen.append(threading.current_thread().name)
        return text(b"ok")(environ, start_response)

    for threads in (2, 0):
        with wsgi_server(app, threads) as server:
            assert request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").body == b"ok"
    assert seen[0].startswith("wsgi-")
    assert seen[1] == "reactor-test-loop"


# -- the request body -------------------------------------------------------------------------------


@BOTH_MODES
def test_a_content_length_body_and_a_chunked_body_reach_wsgi_input(threads: int) -> None:
    with wsgi_server(echo_body, threads) as server, RawClient(server.port) as client:
        payload = os.urandom(5000)
        client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + payload)
        assert client.read_response().body == payload
        client.send(
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"
        )
        assert client.read_response().body == b"abcde"


@BOTH_MODES
def test_chunked_bodies_are_marked_terminated_and_read_line_by_line(threads: int) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        stream = environ["wsgi.input"]
        first = stream.readline()
        rest = list(stream)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [json.dumps([environ.get("wsgi.input_terminated"), first.decode(), [r.decode() for r in rest]]).encode()]

    with wsgi_server(app, threads) as server:
        body = b"one\ntwo\nthree"
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:5], body[5:])) + b"0\r\n\r\n"
        response = request(server.port, b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    assert json.loads(response.body) == [True, "one\n", ["two\n", "three"]]


def test_a_slow_app_pauses_the_body_so_the_server_does_not_buffer_it() -> None:
    size = 900 * 1024  # under max_body (1 MiB)
    go_on = threading.Event()
    digest: list[str] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        stream = environ["wsgi.input"]
        hasher = hashlib.sha256(stream.read(1024))
        assert go_on.wait(20)
        while piece := stream.read(65536):
            hasher.update(piece)
        digest.append(hasher.hexdigest())
        return text(b"done")(environ, start_response)

    payload = os.urandom(size)
    with wsgi_server(app) as server, RawClient(server.port) as client:
        sender = threading.Thread(
            target=client.send, args=(b"PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size + payload,)
        )
        sender.start()

        def paused_after_filling_the_buffer() -> bool:
            stats = server.live.statistics()
            return stats.by_state == {"waiting": 1} and stats.bytes_received > 64 * 1024

        assert wait_until(paused_after_filling_the_buffer)
        for _ in range(20):
            # wsgi.input's 64 KiB plus at most one recv: the rest waits in the kernel, not in Python.
            assert server.live.statistics().bytes_received < 200 * 1024
        go_on.set()
        assert client.read_response().body == b"done"
        sender.join(10)
    assert digest == [hashlib.sha256(payload).hexdigest()]


def test_expect_100_continue_is_answered_when_the_app_reads_the_body() -> None:
    with wsgi_server(echo_body) as server, RawClient(server.port) as client:
        client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        interim = client.read_response()
        assert interim.status == 100
        client.send(b"hello")
        assert client.read_response().body == b"hello"


def test_an_app_that_ignores_the_body_gets_no_100_continue_sent() -> None:
    with wsgi_server(text(b"no thanks", "403 Forbidden")) as server, RawClient(server.port) as client:
        client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        response = client.read_response()
        assert (response.status, response.body) == (403, b"no thanks")
        assert response.header("Connection") == "close"  # the client may or may not send the body now


@BOTH_MODES
def test_a_body_the_app_leaves_unread_is_drained_and_the_connection_kept(threads: int) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.input"].read(2)
        return text(b"partial")(environ, start_response)

    with wsgi_server(app, threads) as server, RawClient(server.port) as client:
        for _ in range(3):
            client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10000\r\n\r\n" + b"x" * 10000)
            assert client.read_response().body == b"partial"


def test_a_client_that_leaves_mid_body_makes_wsgi_input_raise() -> None:
    outcome: list[str] = []
    closed = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            environ["wsgi.input"].read(10)
        except ConnectionAbortedError:
            outcome.append("aborted")
            raise
        finally:
            closed.set()
        return text(b"unreachable")(environ, start_response)

    with wsgi_server(app, expect_errors=True) as server:
        with RawClient(server.port) as client:
            client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            assert wait_until(lambda: server.live.statistics().by_state == {"reading": 1})
        assert closed.wait(10)
    assert outcome == ["aborted"]


# -- the response: framing ---------------------------------------------------------------------------


def framing_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    kind = environ["PATH_INFO"]
    headers = [("Content-Type", "text/plain")]
    if kind == "/declared":
        start_response("200 OK", [*headers, ("Content-Length", "5")])
        return iter([b"he", b"llo"])
    start_response("200 OK", headers)
    if kind == "/single":
        return [b"hello"]
    if kind == "/empty":
        return []
    return iter([b"he", b"", b"llo"])  # a generator: length unknown


@BOTH_MODES
@pytest.mark.parametrize(
    ("path", "length", "chunked"),
    [("/declared", "5", False), ("/single", "5", False), ("/empty", "0", False), ("/stream", None, True)],
)
def test_content_length_when_known_chunked_otherwise(
    threads: int, path: str, length: str | None, chunked: bool
) -> None:
    with wsgi_server(framing_app, threads) as server, RawClient(server.port) as client:
        client.send(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        response = client.read_response()
        assert response.header("Content-Length") == length
        assert (response.header("Transfer-Encoding") == "chunked") is chunked
        assert response.body == (b"" if path == "/empty" else b"hello")
        client.send(b"GET /single HTTP/1.1\r\nHost: t\r\n\r\n")  # the connection is still usable
        assert client.read_response().body == b"hello"


def test_an_http10_client_gets_a_close_delimited_stream() -> None:
    with wsgi_server(framing_app) as server, RawClient(server.port) as client:
        client.send(b"GET /stream HTTP/1.0\r\n\r\n")
        raw = client.read_until_closed()
    assert raw.endswith(b"\r\n\r\nhello")
    assert b"Connection: close" in raw


def test_a_body_longer_than_its_content_length_is_cut_and_logged() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
        return [b"abcdef"]

    with wsgi_server(app, expect_errors=True) as server, RawClient(server.port) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().body == b"abc"
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().body == b"abc"
    assert any("longer than its Content-Length" in line for line in server.logged)


def test_a_body_shorter_than_its_content_length_closes_the_connection() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return [b"abc"]

    with wsgi_server(app) as server, RawClient(server.port) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        raw = client.read_until_closed()
    assert raw.endswith(b"\r\n\r\nabc")


def test_head_keeps_the_apps_content_length_and_the_connection() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "1234")])
        return []  # Werkzeug answers HEAD so: the GET length, no body

    with wsgi_server(app) as server, RawClient(server.port) as client:
        for _ in range(2):
            client.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
            response = client.read_response("HEAD")
            assert (response.status, response.header("Content-Length")) == (200, "1234")


@BOTH_MODES
def test_the_write_callable_and_the_iterable_are_sent_in_order(threads: int) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"one ")
        write(b"two ")
        return [b"three"]

    with wsgi_server(app, threads) as server:
        response = request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert response.body == b"one two three"
    assert response.header("Transfer-Encoding") == "chunked"


def test_app_headers_the_server_owns_are_replaced_not_doubled() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Date", "yesterday"), ("Server", "app")])
        return [b"x"]

    with wsgi_server(app) as server:
        response = request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert [name for name, _ in response.headers].count("Date") == 1
    assert response.header("Date") != "yesterday"
    assert [name for name, _ in response.headers].count("Server") == 1


# -- the response: errors ----------------------------------------------------------------------------


@BOTH_MODES
@pytest.mark.parametrize("header", ["Connection", "Transfer-Encoding", "Keep-Alive", "Upgrade"])
def test_a_hop_by_hop_header_from_the_app_is_a_500(threads: int, header: str) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), (header, "x")])
        return [b"never"]

    with wsgi_server(app, threads, expect_errors=True) as server:
        response = request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert response.status == 500
    assert any("hop-by-hop" in line for line in server.logged)


@BOTH_MODES
def test_an_exception_before_the_body_is_a_500(threads: int) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        raise RuntimeError("boom")

    with wsgi_server(app, threads, expect_errors=True) as server, RawClient(server.port) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.read_response().status == 500
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")  # the connection lives on
        assert client.read_response().status == 500
    assert any("RuntimeError('boom')" in line for line in server.logged)


class Recorded:
    """An iterable that records its close() and may fail after some items."""

    def __init__(self, items: list[bytes], fail_after: int | None = None) -> None:
        self.items = items
        self.fail_after = fail_after
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        for index, item in enumerate(self.items):
            if index == self.fail_after:
                raise RuntimeError("failed mid-body")
            yield item

    def close(self) -> None:
        self.closed.set()


@BOTH_MODES
def test_an_exception_mid_body_closes_the_connection_and_close_is_called(threads: int) -> None:
    result = Recorded([b"first", b"second"], fail_after=1)

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return result

    with wsgi_server(app, threads, expect_errors=True) as server, RawClient(server.port) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        raw = client.read_until_closed()
    assert raw.endswith(b"5\r\nfirst\r\n")  # no last chunk: the client knows the body is incomplete
    assert result.closed.wait(10)


@BOTH_MODES
def test_exc_info_replaces_headers_not_yet_sent(threads: int) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late")
        except ValueError:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"sorry"]

    with wsgi_server(app, threads) as server:
        response = request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (response.status, response.body) == (503, b"sorry")


@BOTH_MODES
def test_exc_info_after_the_headers_went_out_reraises_and_ends_the_connection(threads: int) -> None:
    raised: list[str] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"partial"
        try:
            raise ValueError("late")
        except ValueError:
            try:
                start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
            except ValueError as error:
                raised.append(str(error))
                raise

    with wsgi_server(app, threads, expect_errors=True) as server, RawClient(server.port) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        raw = client.read_until_closed()
    assert raw.startswith(b"HTTP/1.1 200 OK") and raw.endswith(b"7\r\npartial\r\n")
    assert raised == ["late"]


def test_start_response_twice_without_exc_info_is_an_error() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"x"]

    with wsgi_server(app, expect_errors=True) as server:
        assert request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").status == 500
    assert any("already called" in line for line in server.logged)


# -- the response: backpressure, close, files --------------------------------------------------------


@BOTH_MODES
def test_a_streamed_body_is_produced_only_as_fast_as_the_client_reads(threads: int) -> None:
    chunk = b"x" * 16384
    count = 2048  # 32 MiB: more than the kernel buffers of both sides together
    produced = [0]
    result_closed = threading.Event()

    class Stream:
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(count):
                produced[0] += len(chunk)
                yield chunk

        def close(self) -> None:
            result_closed.set()

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Stream()

    with wsgi_server(app, threads) as server, RawClient(server.port) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wait_until(lambda: server.live.statistics().queued > 0)  # the kernel's buffers are full
        for _ in range(20):
            ahead = produced[0]
            sent = server.live.statistics().bytes_sent
            # What Python holds beyond what the kernel took: the send queue up to the high-water
            # mark, one piece in flight and one being produced.
            assert ahead - sent <= server.live.limits.high_water + 3 * len(chunk)
        assert produced[0] < count * len(chunk)
        body = client.read_response().body
    assert len(body) == count * len(chunk)
    assert result_closed.wait(10)


@BOTH_MODES
def test_close_is_called_when_the_client_leaves_mid_stream(threads: int) -> None:
    result = Recorded([b"x" * 65536] * 1000)

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return result

    with wsgi_server(app, threads) as server:
        with RawClient(server.port) as client:
            client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            assert wait_until(lambda: server.live.statistics().queued > 0)
            client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # reset on close
        assert result.closed.wait(10)
        assert wait_until(lambda: server.live.statistics().connections == 0)


@pytest.fixture
def sendfile_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """Every os.sendfile call: (path of the file sent, offset, count)."""
    calls: list[tuple[str, int, int]] = []
    real = os.sendfile

    def spy(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        calls.append((os.readlink(f"/proc/self/fd/{in_fd}"), offset or 0, count))
        return real(out_fd, in_fd, offset, count)

    monkeypatch.setattr(os, "sendfile", spy)
    return calls


@BOTH_MODES
def test_wsgi_file_wrapper_is_sent_with_sendfile_from_the_current_position(
    threads: int, tmp_path: Path, sendfile_calls: list[tuple[str, int, int]]
) -> None:
    data = os.urandom(300_000)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    files: list[io.BufferedReader] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        file = path.open("rb")
        file.seek(1000)
        files.append(file)
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        wrapper: Iterable[bytes] = environ["wsgi.file_wrapper"](file, 8192)
        return wrapper

    with wsgi_server(app, threads) as server, RawClient(server.port) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        response = client.read_response()
        assert response.body == data[1000:]
        assert response.header("Content-Length") == str(len(data) - 1000)
    assert sendfile_calls and all(call[0] == str(path) for call in sendfile_calls)
    assert sendfile_calls[0][1] == 1000
    assert wait_until(lambda: files[0].closed)  # the wrapper's close() closed the app's file; the server used its own


def test_a_file_wrapper_over_something_that_is_not_a_file_is_iterated(
    sendfile_calls: list[tuple[str, int, int]],
) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        wrapper: Iterable[bytes] = environ["wsgi.file_wrapper"](io.BytesIO(b"from memory" * 1000), 4096)
        return wrapper

    with wsgi_server(app) as server:
        assert request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").body == b"from memory" * 1000
    assert sendfile_calls == []


# -- concurrency ---------------------------------------------------------------------------------------


def test_four_threads_run_four_requests_at_once() -> None:
    barrier = threading.Barrier(4, timeout=20)

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        barrier.wait()  # passes only if four requests are in the app together
        return text(b"together")(environ, start_response)

    with wsgi_server(app, threads=4) as server:
        results: list[bytes] = []
        clients = [
            threading.Thread(
                target=lambda: results.append(request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").body)
            )
            for _ in range(4)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join(20)
    assert results == [b"together"] * 4


@BOTH_MODES
def test_pipelined_requests_are_answered_in_order(threads: int) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        return text(environ["PATH_INFO"].encode())(environ, start_response)

    with wsgi_server(app, threads) as server, RawClient(server.port) as client:
        client.send(b"".join(b"GET /%d HTTP/1.1\r\nHost: t\r\n\r\n" % number for number in range(30)))
        assert [client.read_response().body for _ in range(30)] == [b"/%d" % number for number in range(30)]


@BOTH_MODES
def test_fifty_clients_at_once(threads: int) -> None:
    with wsgi_server(echo_body, threads) as server:
        clients = [RawClient(server.port) for _ in range(50)]
        try:
            for number, client in enumerate(clients):
                client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n%04d" % number)
            assert [client.read_response().body for client in clients] == [b"%04d" % n for n in range(50)]
        finally:
            for client in clients:
                client.close()


@BOTH_MODES
def test_requests_leave_no_reference_cycles_for_the_garbage_collector(threads: int) -> None:
    # Every request of a busy server would otherwise wait for a collection to be freed: the
    # exchange drops its callbacks once they can no longer fire, wsgi.input its wake.
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/read":
            environ["wsgi.input"].read(3)
        return text(b"ok")(environ, start_response)

    with wsgi_server(app, threads) as server, RawClient(server.port) as client:
        client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        client.read_response()
        gc.collect()
        gc.disable()
        try:
            for path in ["/", "/read", "/ignore"] * 20:
                client.send(b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" % path.encode())
                assert client.read_response().body == b"ok"
            assert gc.collect() == 0
        finally:
            gc.enable()
