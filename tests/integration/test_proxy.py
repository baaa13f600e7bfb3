"""The reverse proxy against real backends on loopback: this server (static files, and a handler that
echoes what reached it), raw sockets that answer exactly what a test scripts, faults included."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers.static.staticfiles import StaticFiles
from reactor.limits import Limits
from tests.conftest import LiveServer
from tests.integration.client import RawClient, request, start_download, wait_until
from tests.integration.proxy_helpers import Proxy, answer, echo, raw_backend

GET = b"GET %s HTTP/1.1\r\nHost: site.test\r\n\r\n"


@pytest.fixture
def echo_backend() -> Iterator[LiveServer]:
    server = LiveServer(echo)
    yield server
    server.stop()


@pytest.fixture
def static_backend(docroot: Path) -> Iterator[LiveServer]:
    server = LiveServer(StaticFiles(str(docroot)))
    yield server
    server.stop()


@pytest.fixture
def proxies() -> Iterator[list[Proxy]]:
    started: list[Proxy] = []
    yield started
    for proxy in started:
        proxy.stop()


def start_proxy(proxies: list[Proxy], routes: dict[str, str], **limits: float) -> Proxy:
    proxy = Proxy(routes, limits=dataclasses.replace(Limits(), **limits))  # type: ignore[arg-type]
    proxies.append(proxy)
    return proxy


def echoed(port: int, data: bytes) -> dict[str, object]:
    response = request(port, data)
    assert response.status == 200, response
    result: dict[str, object] = json.loads(response.body)
    return result


# -- what is passed on ---------------------------------------------------------------------------


def test_a_file_comes_through_whole_with_our_date_server_and_a_via(
    proxies: list[Proxy], static_backend: LiveServer, docroot: Path
) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{static_backend.port}/"})
    response = request(proxy.port, GET % b"/api/1k.bin")
    assert response.status == 200
    assert response.body == (docroot / "1k.bin").read_bytes()
    assert response.header("Server") == "reactor"
    assert response.header("Via") == "1.1 reactor"
    assert response.header("Content-Length") == "1024"
    assert response.header("ETag") is not None


def test_requests_outside_the_prefixes_are_not_proxied(proxies: list[Proxy], echo_backend: LiveServer) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{echo_backend.port}"})
    for target in (b"/apis", b"/", b"/other/api"):
        assert request(proxy.port, GET % target).body == b"not proxied\n"
    assert echo_backend.statistics().requests == 0


def test_the_target_without_a_path_in_the_url_goes_as_received(proxies: list[Proxy], echo_backend: LiveServer) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{echo_backend.port}"})
    seen = echoed(proxy.port, GET % b"/api/users/7?full=1&x=%20")
    assert seen["target"] == "/api/users/7?full=1&x=%20"
    assert seen["version"] == "HTTP/1.1"


def test_a_path_in_the_url_replaces_the_prefix(proxies: list[Proxy], echo_backend: LiveServer) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{echo_backend.port}/v2"})
    assert echoed(proxy.port, GET % b"/api/users?x=1")["target"] == "/v2/users?x=1"
    assert echoed(proxy.port, GET % b"/api")["target"] == "/v2"


def test_the_fields_the_backend_sees(proxies: list[Proxy], echo_backend: LiveServer) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{echo_backend.port}"})
    seen = echoed(
        proxy.port,
        b"GET /api/x HTTP/1.1\r\nHost: site.test:8000\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\n"
        b"Keep-Alive: 5\r\nTE: trailers\r\nProxy-Authorization: Basic eDp5\r\nX-Forwarded-For: 6.6.6.6\r\n"
        b"Cookie: session=1\r\n\r\n",
    )
    headers = [tuple(field) for field in seen["headers"]]  # type: ignore[attr-defined]
    assert headers == [
        ("host", "site.test:8000"),
        ("cookie", "session=1"),
        ("x-forwarded-host", "site.test:8000"),
        ("x-forwarded-for", "127.0.0.1"),
        ("x-forwarded-proto", "http"),
        ("via", "1.1 reactor"),
    ]


def test_the_backend_s_hop_by_hop_fields_do_not_reach_the_client(proxies: list[Proxy]) -> None:
    response = (
        b"HTTP/1.1 200 OK\r\nServer: backend/1.0\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
        b"Connection: X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok"
    )
    with raw_backend(answer(response)) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url})
        answered = request(proxy.port, GET % b"/api/x")
    assert answered.body == b"ok"
    names = {name.lower() for name, _ in answered.headers}
    assert "x-hop" not in names and "keep-alive" not in names
    assert answered.header("X-Kept") == "yes"
    assert answered.header("Server") == "reactor" and "2024" not in (answered.header("Date") or "")


def test_head_conditional_and_range_requests_pass_through(
    proxies: list[Proxy], static_backend: LiveServer, docroot: Path
) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{static_backend.port}/"})
    head = request(proxy.port, b"HEAD /api/1k.bin HTTP/1.1\r\nHost: t\r\n\r\n", "HEAD")
    assert (head.status, head.header("Content-Length"), head.body) == (200, "1024", b"")
    etag = head.header("ETag")
    assert etag is not None
    cached = request(proxy.port, f"GET /api/1k.bin HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\n\r\n".encode())
    assert (cached.status, cached.body) == (304, b"")
    part = request(proxy.port, b"GET /api/1k.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=10-19\r\n\r\n")
    assert part.status == 206
    assert part.body == (docroot / "1k.bin").read_bytes()[10:20]
    assert part.header("Content-Range") == "bytes 10-19/1024"


# -- bodies and framing ----------------------------------------------------------------------------


def test_a_request_body_is_passed_on_with_its_length(proxies: list[Proxy], echo_backend: LiveServer) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{echo_backend.port}"})
    seen = echoed(proxy.port, b"POST /api/form HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world")
    assert (seen["method"], seen["body"]) == ("POST", "hello world")
    assert ["content-length", "11"] in seen["headers"]  # type: ignore[operator]


def test_a_chunked_body_is_framed_again_by_us(proxies: list[Proxy]) -> None:
    with raw_backend(answer(b"HTTP/1.1 204 No Content\r\n\r\n")) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url})
        response = request(
            proxy.port,
            b"POST /api/up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        )
        assert response.status == 204
        (sent,) = backend.requests
    head, _, body = sent.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/up HTTP/1.1\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    # Our framing: chunk sizes as they were read, no extension, no trailer field.
    assert body == b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"


def test_smuggling_attempts_never_reach_the_backend(proxies: list[Proxy]) -> None:
    with raw_backend(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url})
        attempts = [
            b"POST /api HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST /api HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            b"POST /api HTTP/1.1\r\nHost: t\r\nX: y\nContent-Length: 5\r\n\r\nabcde",
        ]
        for attempt in attempts:
            assert request(proxy.port, attempt).status == 400
        assert backend.requests == []


def test_expect_100_continue_is_answered_by_the_proxy(proxies: list[Proxy], echo_backend: LiveServer) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{echo_backend.port}"})
    with RawClient(proxy.port) as client:
        client.send(b"PUT /api/f HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        assert client.read_response().status == 100
        client.send(b"abc")
        response = client.read_response()
    seen = json.loads(response.body)
    assert seen["body"] == "abc"
    assert not any(name == "expect" for name, _ in seen["headers"])


@pytest.mark.parametrize(
    ("backend_says", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n", b"hello"),
    ],
)
def test_bodies_framed_by_length_or_chunks(proxies: list[Proxy], backend_says: bytes, body: bytes) -> None:
    with raw_backend(answer(backend_says)) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url})
        with RawClient(proxy.port) as client:
            for _ in range(3):  # and the connections to the backend are reused
                client.send(GET % b"/api/x")
                assert client.read_response().body == body
        assert backend.connections == 1


def test_a_body_that_ends_with_the_backend_s_close_is_chunked_to_the_client(proxies: list[Proxy]) -> None:
    def until_close(sock: socket.socket, request: bytes) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of ")
        sock.sendall(b"it")
        sock.shutdown(socket.SHUT_WR)

    with raw_backend(until_close) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url})
        with RawClient(proxy.port) as client:
            client.send(GET % b"/api/x")
            response = client.read_response()
            assert response.header("Transfer-Encoding") == "chunked"
            assert response.body == b"all of it"
            client.send(GET % b"/api/x")  # the client's connection is kept; the backend's was not
            assert client.read_response().body == b"all of it"
        assert backend.connections == 2


def close_connections(server: LiveServer) -> None:
    for transport in list(server.server.acceptor.connections):
        transport.abort("closed by the test")


# -- the pool ----------------------------------------------------------------------------------------


def test_keep_alive_connections_to_the_backend_are_reused(proxies: list[Proxy], echo_backend: LiveServer) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{echo_backend.port}"})
    for _ in range(5):
        echoed(proxy.port, GET % b"/api/x")  # each on a new client connection
    assert echo_backend.statistics().accepted == 1
    assert proxy.pool() == (1, 1, 1)


def test_a_pooled_connection_the_backend_closed_while_idle_is_not_used(
    proxies: list[Proxy], echo_backend: LiveServer
) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{echo_backend.port}"})
    echoed(proxy.port, GET % b"/api/x")
    echo_backend.call(lambda: close_connections(echo_backend))
    assert wait_until(lambda: proxy.pool() == (0, 0, 1)), "the idle connection's close was seen"
    echoed(proxy.port, GET % b"/api/x")
    assert proxy.pool() == (1, 1, 2)


def test_a_request_that_meets_a_reused_connection_closing_is_sent_again_if_idempotent(proxies: list[Proxy]) -> None:
    answers = iter([True, False, True, False])

    def close_some(sock: socket.socket, request: bytes) -> None:
        if next(answers):
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        else:
            sock.close()  # the race: the backend closes the idle connection as the request arrives

    with raw_backend(close_some) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url})
        assert request(proxy.port, GET % b"/api/x").body == b"ok"
        assert request(proxy.port, GET % b"/api/x").body == b"ok", "sent again on a new connection"
        assert backend.connections == 2
        # A POST is not idempotent (RFC 9110 9.2.2): the backend may have acted on it.
        posted = request(proxy.port, b"POST /api/x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        assert posted.status == 502
        assert len(backend.requests) == 4 and backend.connections == 2


# -- failures are answers ----------------------------------------------------------------------------


def test_a_backend_that_is_down_is_a_502(proxies: list[Proxy]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{port}"})
    response = request(proxy.port, GET % b"/api/x")
    assert response.status == 502
    assert b"Connection refused" in response.body
    assert request(proxy.port, GET % b"/api/x").status == 502, "and again, without a retry storm"


def test_a_backend_that_never_answers_is_a_504_after_the_proxy_timeout(proxies: list[Proxy]) -> None:
    with raw_backend(lambda sock, request: None) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url}, proxy_timeout=0.3)
        response = request(proxy.port, GET % b"/api/x")
    assert response.status == 504
    assert b"did not answer within 0.3 s" in response.body


def test_a_backend_that_does_not_accept_in_time_is_a_504(proxies: list[Proxy]) -> None:
    # A listener whose backlog is full: the kernel leaves the next handshake unanswered. (Linux takes
    # one connection more than a backlog of 0 says; the fillers connect without waiting.)
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    filler = [socket.socket() for _ in range(2)]
    for sock in filler:
        sock.setblocking(False)
        sock.connect_ex(listener.getsockname())
    try:
        proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{listener.getsockname()[1]}"}, proxy_timeout=0.3)
        response = request(proxy.port, GET % b"/api/x")
    finally:
        for sock in filler:
            sock.close()
        listener.close()
    assert response.status == 504
    assert b"no connection to the backend" in response.body


@pytest.mark.parametrize(
    "backend_says",
    [
        b"",  # closes without a word
        b"HTTP/1.1 200 OK\r\nContent-Le",  # closes inside the head
        b"SSH-2.0-OpenSSH\r\n\r\n",  # not HTTP
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",  # framing we cannot pass on
    ],
)
def test_a_backend_that_fails_before_its_head_is_a_502(proxies: list[Proxy], backend_says: bytes) -> None:
    def fail(sock: socket.socket, request: bytes) -> None:
        sock.sendall(backend_says)
        sock.close()

    with raw_backend(fail) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url})
        response = request(proxy.port, GET % b"/api/x")
    assert response.status == 502


def test_a_backend_that_resets_is_a_502(proxies: list[Proxy]) -> None:
    def reset(sock: socket.socket, request: bytes) -> None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()

    with raw_backend(reset) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url})
        assert request(proxy.port, GET % b"/api/x").status == 502


def test_a_backend_that_dies_mid_body_cuts_the_client_s_response(proxies: list[Proxy]) -> None:
    def die(sock: socket.socket, request: bytes) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of it")
        sock.close()

    with raw_backend(die) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url})
        with RawClient(proxy.port) as client:
            client.send(GET % b"/api/x")
            data = client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(b"only part of it"), "what came is passed on, then the connection is cut"


def test_a_backend_silent_mid_body_cuts_the_response_after_the_timeout(proxies: list[Proxy]) -> None:
    release = threading.Event()

    def stall(sock: socket.socket, request: bytes) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstart")
        release.wait(10)

    with raw_backend(stall) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url}, proxy_timeout=0.3)
        with RawClient(proxy.port) as client:
            client.send(GET % b"/api/x")
            data = client.read_until_closed()
        release.set()
    assert data.endswith(b"\r\n\r\nstart")


def test_a_client_that_leaves_mid_response_closes_the_backend_connection(proxies: list[Proxy], docroot: Path) -> None:
    (docroot / "large.bin").write_bytes(bytes(32 << 20))
    backend = LiveServer(StaticFiles(str(docroot)))
    try:
        proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{backend.port}/"})
        client = start_download(proxy.port, "/api/large.bin")
        assert wait_until(lambda: backend.statistics().by_state.get("writing") == 1), "the backend is held back"
        client.close()
        assert wait_until(lambda: backend.statistics().connections == 0), "its connection was closed"
        assert proxy.pool() == (0, 0, 1)
    finally:
        backend.stop()


def test_a_slow_client_holds_the_backend_back_not_the_proxy_s_memory(proxies: list[Proxy], docroot: Path) -> None:
    (docroot / "large.bin").write_bytes(bytes(32 << 20))
    backend = LiveServer(StaticFiles(str(docroot)))
    try:
        proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{backend.port}/"})
        client = start_download(proxy.port, "/api/large.bin")
        assert wait_until(lambda: backend.statistics().by_state.get("writing") == 1)
        held = proxy.server.statistics().largest_queue
        assert held <= proxy.limits.high_water + proxy.limits.recv_size
        received = len(client.buffer) - client.buffer.index(b"\r\n\r\n") - 4
        while received < 32 << 20:
            received += len(client.sock.recv(1 << 20))
        assert received == 32 << 20
        client.close()
    finally:
        backend.stop()


# -- no open proxy -----------------------------------------------------------------------------------


def test_an_absolute_form_request_for_another_host_goes_to_the_configured_backend(
    proxies: list[Proxy], echo_backend: LiveServer
) -> None:
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{echo_backend.port}"})
    seen = echoed(proxy.port, b"GET http://elsewhere.test/api/x HTTP/1.1\r\nHost: elsewhere.test\r\n\r\n")
    assert seen["target"] == "/api/x"
    outside = request(proxy.port, b"GET http://elsewhere.test/x HTTP/1.1\r\nHost: elsewhere.test\r\n\r\n")
    assert outside.body == b"not proxied\n"
    connect = request(proxy.port, b"CONNECT elsewhere.test:443 HTTP/1.1\r\nHost: elsewhere.test:443\r\n\r\n")
    assert connect.body == b"not proxied\n"
    assert echo_backend.statistics().requests == 1


# -- a slow backend --------------------------------------------------------------------------------


def test_a_slow_backend_delays_nobody_else(proxies: list[Proxy], echo_backend: LiveServer) -> None:
    release = threading.Event()
    with raw_backend(lambda sock, request: release.wait(10)) as slow:
        proxy = Proxy({"/slow": slow.url, "/api": f"http://127.0.0.1:{echo_backend.port}"})
        proxies.append(proxy)
        with RawClient(proxy.port) as stuck:
            stuck.send(GET % b"/slow/x")
            assert wait_until(lambda: slow.requests)
            started = time.monotonic()
            for _ in range(20):
                echoed(proxy.port, GET % b"/api/x")
                assert request(proxy.port, GET % b"/elsewhere").status == 404
            assert time.monotonic() - started < 5
        release.set()


def test_a_large_upload_waits_for_a_backend_that_does_not_read(proxies: list[Proxy]) -> None:
    release = threading.Event()
    body = bytes(range(256)) * (16 << 12)  # 16 MiB
    view = memoryview(body)

    def read_when_released(sock: socket.socket, request: bytes) -> None:
        release.wait(20)
        received = request.partition(b"\r\n\r\n")[2]
        while len(received) < len(body):
            received += sock.recv(1 << 20)
        digest = hashlib.sha256(received).hexdigest().encode()
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(digest), digest))

    with raw_backend(read_when_released, with_body=False) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url}, max_body=len(body))
        client = RawClient(proxy.port, timeout=30)
        client.send(b"PUT /api/big HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body))
        client.sock.setblocking(False)
        sent = 0

        def held_back() -> bool:
            """Send what the kernel takes; true once the proxy has stopped reading the body because
            the backend's queue is full."""
            nonlocal sent
            with contextlib.suppress(BlockingIOError):
                while sent < len(body):
                    sent += client.sock.send(view[sent : sent + (1 << 16)])
            paused = proxy.server.statistics().by_state.get("waiting") == 1
            return paused and proxy.queued_to_backend() > proxy.limits.low_water

        assert wait_until(held_back)
        assert sent < len(body), "the client is slowed down"
        assert proxy.queued_to_backend() <= proxy.limits.high_water + proxy.limits.recv_size
        release.set()
        client.sock.settimeout(30)
        client.sock.sendall(view[sent:])
        response = client.read_response()
        client.close()
    assert response.body == hashlib.sha256(body).hexdigest().encode()


def test_a_backend_that_answers_before_the_whole_upload_is_passed_on(proxies: list[Proxy]) -> None:
    def refuse_early(sock: socket.socket, request: bytes) -> None:
        sock.sendall(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nbig!")
        with contextlib.suppress(OSError):
            while sock.recv(1 << 20):  # read and drop the rest, as servers do
                pass

    body = bytes(8 << 20)
    with raw_backend(refuse_early, with_body=False) as backend:
        proxy = start_proxy(proxies, {"/api": backend.url}, max_body=len(body))
        with RawClient(proxy.port, timeout=30) as client:
            head = b"PUT /api/x HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body)
            sender = threading.Thread(target=client.send, args=(head + body,))
            sender.start()
            response = client.read_response()
            assert (response.status, response.body) == (413, b"big!")
            sender.join(30)
            assert not sender.is_alive(), "the rest of the upload was read and dropped"
            client.send(GET % b"/elsewhere")
            assert client.read_response().status == 404, "and the client's connection goes on"


def test_an_upload_to_a_backend_that_is_down_is_answered_and_drained(proxies: list[Proxy]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    proxy = start_proxy(proxies, {"/api": f"http://127.0.0.1:{port}"})
    with RawClient(proxy.port) as client:
        client.send(b"POST /api/x HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
        assert client.read_response().status == 502
        client.send(bytes(1000))  # the body nobody waited for: read and dropped, the connection kept
        client.send(GET % b"/elsewhere")
        assert client.read_response().status == 404
