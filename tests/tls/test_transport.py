"""The TLS transport's handshake state, stepped by hand: a socketpair for the bytes, a real handshake
with the ssl module's client, a fake clock for the timeout, and the transport's callbacks called
directly instead of waiting in select."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from reactor.limits import Limits
from reactor.loop.eventloop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.net.iostate import IOState, Timeout
from reactor.net.tls import TLSTransport
from reactor.net.transport import Protocol
from reactor.testing import FakeClock


class Recorder(Protocol):
    def __init__(self) -> None:
        self.received = bytearray()
        self.lost: str | None = None

    def connection_made(self, transport: object) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self.transport.resume_reading(Timeout.KEEPALIVE_TIMEOUT)

    def data_received(self, data: bytes) -> None:
        self.received += data
        self.transport.write(b"echo:" + data)

    def connection_lost(self, reason: str) -> None:
        self.lost = reason


class Rig:
    def __init__(self, server_context: ssl.SSLContext) -> None:
        self.clock = FakeClock()
        self.loop = EventLoop(clock=self.clock)
        ours, self.peer = socket.socketpair()
        ours.setblocking(False)
        self.protocol = Recorder()
        self.transport = TLSTransport(
            self.loop, ours, ("peer", 0), self.protocol, Limits(handshake_timeout=10.0),
            context=server_context, refusal=lambda: b"refused\n",
        )  # fmt: skip

    def interest(self) -> int:
        return self.transport._events

    def close(self) -> None:
        self.transport.abort("test over")
        self.peer.close()
        self.loop.close()


@pytest.fixture
def rig(server_context: ssl.SSLContext) -> Iterator[Rig]:
    made = Rig(server_context)
    yield made
    made.close()


def send_client_hello(rig: Rig, context: ssl.SSLContext) -> ssl.SSLSocket:
    """Begin a handshake as the client over the rig's peer socket: its ClientHello goes out."""
    client = context.wrap_socket(rig.peer, server_hostname="localhost", do_handshake_on_connect=False)
    client.setblocking(False)
    with contextlib.suppress(ssl.SSLWantReadError):
        client.do_handshake()
    return client


def test_a_silent_client_is_watched_for_reads_only_and_closed_at_the_handshake_timeout(rig: Rig) -> None:
    rig.transport.start()
    assert rig.transport.state is IOState.HANDSHAKING
    assert rig.interest() == EVENT_READ
    rig.clock.advance(9.9)
    rig.loop.run_once()
    assert rig.transport.state is IOState.HANDSHAKING
    rig.clock.advance(0.2)
    rig.loop.run_once()
    assert rig.transport.state is IOState.CLOSED
    assert rig.protocol.lost == "handshake timeout"


def test_progress_does_not_extend_the_handshake_timeout(rig: Rig, client_context: ssl.SSLContext) -> None:
    rig.transport.start()
    _client = send_client_hello(rig, client_context)  # held: dropped, it would close the socket
    rig.clock.advance(9.0)
    rig.transport.on_readable()  # the server's flight goes back; now it waits for the client's Finished
    assert rig.transport.state is IOState.HANDSHAKING
    assert rig.interest() == EVENT_READ
    rig.clock.advance(1.1)
    rig.loop.run_once()
    assert rig.protocol.lost == "handshake timeout"


def test_the_handshake_ends_in_reading_with_the_protocols_timeout(rig: Rig, client_context: ssl.SSLContext) -> None:
    rig.transport.start()
    client = send_client_hello(rig, client_context)
    rig.transport.on_readable()
    client.do_handshake()  # the server's flight is in: the client finishes
    client.sendall(b"ping")
    rig.transport.on_readable()
    assert rig.transport.state is IOState.READING
    assert rig.transport._timeout is Timeout.KEEPALIVE_TIMEOUT
    assert rig.protocol.received == b"ping"
    client.setblocking(True)
    client.settimeout(5)
    assert client.recv(100) == b"echo:ping"


def test_plain_text_gets_the_refusal_then_the_connection_closes(rig: Rig) -> None:
    rig.peer.sendall(b"GET / HTTP/1.1\r\n\r\n")
    rig.transport.start()
    assert rig.transport.state is IOState.LINGERING  # refused, our side shut down, the request unread
    rig.peer.settimeout(5)
    assert rig.peer.recv(100) == b"refused\n"
    assert rig.peer.recv(100) == b""
    rig.peer.shutdown(socket.SHUT_WR)
    rig.transport.on_readable()  # the unread request, dropped
    assert rig.protocol.lost is None
    rig.transport.on_readable()  # the peer's end
    assert rig.protocol.lost == "plain HTTP on the TLS port"


class ScriptedRecords:
    """An established connection's real SSL object with OpenSSL's outcomes scripted in front of it:
    a read or write raises the next scripted exception, if any, else goes to OpenSSL."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.reads: list[Exception] = []
        self.writes: list[Exception] = []

    def read(self, size: int) -> bytes:
        if self.reads:
            raise self.reads.pop(0)
        return self.real.read(size)  # type: ignore[no-any-return]

    def write(self, data: bytes | memoryview) -> int:
        if self.writes:
            raise self.writes.pop(0)
        return self.real.write(data)  # type: ignore[no-any-return]

    def pending(self) -> int:
        return self.real.pending()  # type: ignore[no-any-return]


def established(rig: Rig, client_context: ssl.SSLContext) -> tuple[ssl.SSLSocket, ScriptedRecords]:
    """A real handshake through the transport's own entry points, then its records scriptable. A
    write that wants a read, or a read that wants a write, happens for real only in a renegotiation
    (refused by our context and by OpenSSL 3's default) or a TLS 1.3 KeyUpdate (which no Python client
    sends), with the send buffer full: the outcome is scripted, the handshake, the bytes and the
    retries are real."""
    rig.transport.start()
    client = send_client_hello(rig, client_context)
    rig.transport.on_readable()
    client.do_handshake()
    rig.transport.on_readable()  # the client's Finished: established
    assert rig.transport.state is IOState.READING
    client.setblocking(True)
    client.settimeout(5)
    records = ScriptedRecords(rig.transport._records)
    rig.transport._records = records
    return client, records


def test_a_write_that_wants_a_read_watches_for_reads_until_the_retry_goes_through(
    rig: Rig, client_context: ssl.SSLContext
) -> None:
    client, records = established(rig, client_context)
    rig.transport.pause_reading()  # waiting on a handler: by its row, no read interest
    assert rig.transport.state is IOState.WAITING and rig.interest() == 0
    records.writes = [ssl.SSLWantReadError()]
    rig.transport.write(b"response")
    assert rig.transport.queued == len(b"response")
    assert rig.interest() & EVENT_READ  # the record it needs comes from the peer
    rig.transport.on_readable()
    assert rig.transport.queued == 0 and rig.interest() == 0
    assert client.recv(100) == b"response"


def test_a_read_that_wants_a_write_watches_for_writes_then_reads_again(
    rig: Rig, client_context: ssl.SSLContext
) -> None:
    client, records = established(rig, client_context)
    client.sendall(b"ping")
    records.reads = [ssl.SSLWantWriteError()]
    rig.transport.on_readable()
    assert rig.interest() & EVENT_WRITE and rig.protocol.received == b""
    rig.transport.on_writable()
    assert rig.protocol.received == b"ping"
    assert rig.interest() == EVENT_READ
    assert client.recv(100) == b"echo:ping"
