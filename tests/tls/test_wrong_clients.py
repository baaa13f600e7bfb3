"""Clients that do not finish, or do not speak, TLS: each is closed without disturbing the others.
200 connections stalled mid-handshake are all closed by the handshake timeout while a normal client
is served; plain HTTP gets a 400 that says to use https; garbage and a truncated ClientHello are
closed."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl

from reactor.httpconnection import ConnectionConfig, refuse_plain_http
from reactor.limits import Limits
from tests.integration.client import wait_until
from tests.tls.conftest import ServeTLS

STALLED = 200


def client_hello() -> bytes:
    """The first flight of a real TLS client: its ClientHello record."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    with contextlib.suppress(ssl.SSLWantReadError):
        client.do_handshake()
    hello = outgoing.read()
    assert hello[0] == 0x16
    return hello


def read_until_closed(sock: socket.socket) -> bytes:
    """What the server sends until it closes; a reset counts as the close."""
    received = bytearray()
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return bytes(received)


def test_stalled_handshakes_time_out_while_a_normal_client_is_served(
    serve_tls: ServeTLS, client_context: ssl.SSLContext
) -> None:
    server = serve_tls(limits=Limits(handshake_timeout=1.5))
    hello = client_hello()
    stalled = []
    try:
        for number in range(STALLED):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            # Half say nothing at all; half stop in the middle of their ClientHello.
            if number % 2:
                sock.sendall(hello[: len(hello) // 2])
            stalled.append(sock)
        assert wait_until(lambda: server.statistics().by_state.get("handshaking", 0) == STALLED, timeout=20)

        connection = http.client.HTTPSConnection("localhost", server.port, context=client_context, timeout=10)
        connection.request("GET", "/hello.txt")
        assert connection.getresponse().read() == b"hello world\n"
        connection.close()

        assert wait_until(lambda: server.statistics().closes.get("handshake timeout", 0) == STALLED, timeout=30)
        for sock in stalled:
            assert read_until_closed(sock) == b""
        assert wait_until(lambda: server.statistics().connections == 0)
    finally:
        for sock in stalled:
            sock.close()


def test_plain_http_on_the_tls_port_gets_a_400_that_says_https(serve_tls: ServeTLS) -> None:
    server = serve_tls()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = read_until_closed(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\nConnection: close" in head
    assert b"https://" in body
    assert wait_until(lambda: server.statistics().closes == {"plain HTTP on the TLS port": 1})


def test_garbage_and_a_truncated_client_hello_are_closed(serve_tls: ServeTLS, client_context: ssl.SSLContext) -> None:
    server = serve_tls()
    hello = client_hello()
    for attempt in (b"\x16\x03\x01\x00\x05garbage garbage garbage", hello[:40]):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(attempt)
            with contextlib.suppress(OSError):  # the server may have closed already
                sock.shutdown(socket.SHUT_WR)
            answer = read_until_closed(sock)
        assert not answer.startswith(b"HTTP/"), answer  # a TLS alert at most
    assert wait_until(lambda: server.statistics().closes.get("handshake failed", 0) == 2), server.statistics()
    # And the server goes on serving.
    connection = http.client.HTTPSConnection("localhost", server.port, context=client_context, timeout=10)
    connection.request("GET", "/hello.txt")
    assert connection.getresponse().status == 200
    connection.close()


def test_a_clean_close_sends_close_notify(serve_tls: ServeTLS, client_context: ssl.SSLContext) -> None:
    """With ragged EOFs not suppressed, the client's read ends with b"" only after close_notify; a bare
    TCP close would raise SSLEOFError."""
    server = serve_tls()
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    with client_context.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False) as sock:
        sock.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    assert received.endswith(b"\r\n\r\nhello world\n")


def test_bytes_left_decrypted_inside_openssl_are_read_without_waiting(
    serve_tls: ServeTLS, client_context: ssl.SSLContext
) -> None:
    """A 100-byte recv_size against one TLS record of pipelined requests: each read leaves most of the
    record decrypted inside the SSL object, where select cannot see it. Every request is answered."""
    server = serve_tls(limits=Limits(recv_size=100))
    requests = b"".join(f"GET /hello.txt?{n} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode() for n in range(20))
    assert len(requests) < 16384  # one record
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    with client_context.wrap_socket(raw, server_hostname="localhost") as sock:
        sock.sendall(requests)
        received = bytearray()
        while received.count(b"hello world\n") < 20:
            chunk = sock.recv(65536)
            assert chunk, f"closed after {received.count(b'hello world')} responses"
            received += chunk


def test_the_refusal_speaks_the_servers_http_version() -> None:
    for protocol in ("HTTP/1.1", "HTTP/1.0"):
        refusal = refuse_plain_http(ConnectionConfig(lambda exchange: None, Limits(), None, protocol))
        assert refusal.startswith(f"{protocol} 400 Bad Request\r\n".encode())
        assert b"Connection: close\r\n" in refusal and b"https://" in refusal
