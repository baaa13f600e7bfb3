"""WebSocket (RFC 6455) with the standard library, for the proxy's tunnel tests: an echo server on a
thread, and the client side (handshake, masked frames). Only what the tests need: text and binary
frames with FIN set, ping, close."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct

from tests.integration.proxy_helpers import accept_each

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 1.3
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def _read_exactly(sock: socket.socket, count: int, buffer: bytearray) -> bytes:
    while len(buffer) < count:
        data = sock.recv(65536)
        if not data:
            raise EOFError("closed inside a frame")
        buffer += data
    out = bytes(buffer[:count])
    del buffer[:count]
    return out


def read_frame(sock: socket.socket, buffer: bytearray) -> tuple[int, bytes]:
    """(opcode, payload) of the next frame, unmasked; ``buffer`` holds what was read past it."""
    first, second = _read_exactly(sock, 2, buffer)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _read_exactly(sock, 2, buffer))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read_exactly(sock, 8, buffer))
    mask = _read_exactly(sock, 4, buffer) if second & 0x80 else b""
    payload = _read_exactly(sock, length, buffer)
    if mask:
        payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return first & 0x0F, payload


def frame(opcode: int, payload: bytes, *, masked: bool) -> bytes:
    """One final frame; a client's is masked (RFC 6455 5.3), a server's is not."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, (0x80 if masked else 0) | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, (0x80 if masked else 0) | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, (0x80 if masked else 0) | 127, length)
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


class EchoServer:
    """Accepts WebSocket handshakes on 127.0.0.1 (any path) and echoes every text or binary message;
    answers a ping with a pong and a close with a close. ``sessions`` counts the handshakes done."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.sessions = 0
        self.requests: list[bytes] = []  # the handshake requests as read
        accept_each(self._listener, self._serve)

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            buffer = bytearray()
            while b"\r\n\r\n" not in buffer:
                data = sock.recv(65536)
                if not data:
                    return
                buffer += data
            end = buffer.index(b"\r\n\r\n") + 4
            head, rest = bytes(buffer[:end]), buffer[end:]
            self.requests.append(head)
            key = next(
                line.split(b":", 1)[1].strip()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            sock.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept_key(key) + b"\r\n\r\n"
            )
            self.sessions += 1
            try:
                while True:
                    opcode, payload = read_frame(sock, rest)
                    if opcode == CLOSE:
                        sock.sendall(frame(CLOSE, payload, masked=False))
                        return
                    sock.sendall(frame(PONG if opcode == PING else opcode, payload, masked=False))
            except (EOFError, OSError):
                return

    def close(self) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting in accept
        self._listener.close()


class Client:
    """A WebSocket client on a plain socket to ``port``: ``handshake`` returns the 101's head."""

    def __init__(self, port: int, timeout: float = 10) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = bytearray()

    def handshake(self, path: str, extra: bytes = b"") -> bytes:
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".encode()
            + b"Sec-WebSocket-Key: "
            + key
            + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
            + extra
        )
        while b"\r\n\r\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError(f"closed before the handshake's answer: {bytes(self.buffer)!r}")
            self.buffer += data
        end = self.buffer.index(b"\r\n\r\n") + 4
        head = bytes(self.buffer[:end])
        del self.buffer[:end]
        if head.startswith(b"HTTP/1.1 101"):
            assert b"Sec-WebSocket-Accept: " + accept_key(key) in head or (
                b"sec-websocket-accept: " + accept_key(key) in head
            )
        return head

    def send(self, payload: bytes, opcode: int = TEXT) -> None:
        self.sock.sendall(frame(opcode, payload, masked=True))

    def receive(self) -> tuple[int, bytes]:
        return read_frame(self.sock, self.buffer)

    def close(self) -> None:
        self.sock.close()
