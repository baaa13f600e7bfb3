"""HTTPS: TLS as a second transport under the same protocols, with the stdlib's ``ssl``, non-blocking.

``load_context`` builds the server's SSLContext from the certificate, key and password files the
command line names (``python -m http.server`` 3.14 spells the flags the same). ``TLSTransport`` is a
Transport (transport.py) that begins in the HANDSHAKING state (iostate.py): it peeks at the first
byte on the raw socket (a TLS record starts with 0x16, a handshake record); anything else is plain
HTTP, answered with the server's refusal (a 400 that says to use https) before closing. Otherwise it
wraps the socket and drives the handshake, watching for exactly what OpenSSL asks (SSLWantReadError:
read, SSLWantWriteError: write) within the handshake timeout. Once established it is the plain
transport with three differences: reads drain what OpenSSL has already decrypted (``pending()``)
before waiting in select again; sends go through SSL_write, which cannot take sendmsg or sendfile,
so file ranges are read in chunks (SendQueue.flush_copying); and a clean close sends close_notify.
Under TLS a send may want a read and a read may want a write; the wanted interest is added to the
state's row until the retry succeeds.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any
from typing import Protocol as TypingProtocol

from reactor.limits import Limits
from reactor.loop.eventloop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.net.iostate import CLOSED, CLOSING, HANDSHAKING, LINGERING, READING
from reactor.net.transport import Protocol, Transport

logger = logging.getLogger(__name__)

# The first byte of a TLS record holding a handshake message (RFC 8446 5.1: ContentType handshake).
_HANDSHAKE_RECORD = 0x16
# File bytes read per SSL_write: four full TLS records, and no more than the high-water mark.
_FILE_CHUNK = 64 * 1024
# The TLS 1.2 suites offered: ECDHE key exchange with an AEAD cipher only, as Mozilla's "intermediate"
# profile and Caddy's default. Out: CBC suites (LUCKY13 and its kin), RSA key exchange (no forward
# secrecy), and DHE, which OpenSSL negotiates only with DH parameters this server never loads.
# TLS 1.3 suites are all AEAD and are configured apart: set_ciphers leaves them as OpenSSL has them.
TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)


def load_context(cert: str, key: str | None = None, password_file: str | None = None) -> ssl.SSLContext:
    """A server context: TLS 1.2 (with TLS12_CIPHERS) or 1.3, ALPN ``http/1.1``, the certificate chain
    of ``cert`` with the private key of ``key`` (or of ``cert`` when it holds both), decrypted with the
    first line of ``password_file``. Any SNI name is accepted: one certificate serves every name. Raises
    ValueError with a one-line message (never the password) when a file cannot be read or does not fit."""
    password: str | None = None
    if password_file is not None:
        try:
            with open(password_file, encoding="utf-8") as file:
                password = file.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"cannot read the TLS password file {password_file!r}: {_why(error)}") from None

    def no_password() -> str:
        # Without this OpenSSL would prompt on the terminal, and a server must not wait for a person.
        raise ValueError("the TLS key is encrypted: give its password with --tls-password-file")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(":".join(TLS12_CIPHERS))
    context.options |= ssl.OP_NO_RENEGOTIATION  # client-started renegotiation is a CPU-exhaustion lever
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_cert_chain(cert, key, password if password is not None else no_password)
    except ValueError as error:
        if "encrypted" in str(error):
            raise
        raise ValueError(f"cannot load the TLS key {key or cert!r}: {error}") from None
    except ssl.SSLError as error:
        raise ValueError(_diagnose(cert, key, password is not None, error)) from None
    except OSError as error:
        name = error.filename if error.filename is not None else (key or cert)
        raise ValueError(f"cannot read {name!r}: {_why(error)}") from None
    return context


def _why(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)


def _diagnose(cert: str, key: str | None, has_password: bool, error: ssl.SSLError) -> str:
    """Why OpenSSL refused the files, in words: it only says "PEM lib" for most of it."""
    if error.reason == "KEY_VALUES_MISMATCH":
        return f"the TLS key {key or cert!r} does not belong to the certificate {cert!r}"
    try:
        with open(cert, "rb") as file:
            cert_text = file.read()
        with open(key or cert, "rb") as file:
            key_text = file.read()
    except OSError as read_error:
        return f"cannot read the TLS certificate or key: {_why(read_error)}"
    if b"-----BEGIN CERTIFICATE-----" not in cert_text:
        return f"{cert!r} holds no PEM certificate"
    if b"PRIVATE KEY-----" not in key_text:
        return f"{key or cert!r} holds no PEM private key" + ("" if key else " (name the key file with --tls-key)")
    if has_password and b"ENCRYPTED" in key_text:
        return f"wrong password for the TLS key {key or cert!r}"
    return f"cannot load the TLS certificate {cert!r} and key {key or cert!r}: {error.reason or 'invalid'}"


class _Records(TypingProtocol):
    """What the transport calls on a wrapped socket's C SSL object (``SSLSocket._sslobj``) once
    the handshake is done. SSLSocket.recv, send and pending are Python wrappers of these, two or
    three calls deep, on every request."""

    def read(self, size: int) -> bytes: ...

    def write(self, data: bytes | memoryview) -> int: ...

    def pending(self) -> int: ...


class TLSTransport(Transport):
    """A Transport that speaks TLS on its socket (``context``, a server SSLContext); ``refusal()`` is
    the whole response to a client that speaks plain HTTP instead. The other arguments are the
    Transport's."""

    __slots__ = (
        "_context",
        "_refusal",
        "_tls",
        "_records",
        "_established",
        "_send_wants_read",
        "_recv_wants_write",
        "_pending_read_scheduled",
    )

    def __init__(
        self,
        loop: EventLoop,
        sock: socket.socket,
        address: tuple[str, int],
        protocol: Protocol,
        limits: Limits,
        *,
        context: ssl.SSLContext,
        refusal: Callable[[], bytes],
        **options: Any,
    ) -> None:
        super().__init__(loop, sock, address, protocol, limits, **options)
        self.state = HANDSHAKING
        self._context = context
        self._refusal = refusal
        self._tls: ssl.SSLSocket | None = None  # the wrapped socket, once the first byte said TLS
        self._records: _Records | None = None  # its C SSL object, once the handshake is done
        self._established = False  # the handshake is complete
        self._send_wants_read = False  # SSL_write needs a record from the peer first
        self._recv_wants_write = False  # SSL_read needs to send a record first
        self._pending_read_scheduled = False

    def start(self) -> None:
        """Tell the protocol (which asks to read: that waits for the handshake), then look at what the
        client sent with its connection, usually its ClientHello already."""
        if self.trace is not None:
            self.trace("accept", f"from={self.address[0]}:{self.address[1]} fd={self.sock.fileno()} tls")
        self._made()
        if self.state is HANDSHAKING:
            self._sniff()
        if self.state is not CLOSED:
            self._progress()

    # -- loop callbacks ---------------------------------------------------------------------------

    def on_readable(self) -> None:
        if self.state is HANDSHAKING:
            if self._tls is None:
                self._sniff()
            else:
                self._handshake()
            return
        if self._send_wants_read:
            self._send_wants_read = False
            self._update_wanted()
            self._progress()
        state = self.state
        if state is READING:
            self._read_records()
        elif state is LINGERING:
            self._linger_read()

    def on_writable(self) -> None:
        if self.state is HANDSHAKING:
            if self._tls is not None:
                self._handshake()
            return
        if self._recv_wants_write:
            self._recv_wants_write = False
            self._update_wanted()
            if self.state is READING:
                self._read_records()
        if self.state is not CLOSED:
            self._progress()

    # -- the handshake ----------------------------------------------------------------------------

    def _sniff(self) -> None:
        """Peek at the first byte on the raw socket: a TLS handshake record is wrapped and its
        handshake begun; anything else gets the refusal and the connection closes."""
        try:
            first = self.sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            self._want(EVENT_READ)
            return
        except OSError as error:
            self._on_socket_error(error)
            return
        if not first:
            self._close("closed before the handshake")
            return
        if first[0] != _HANDSHAKE_RECORD:
            if self.trace is not None:
                self.trace("tls", f"plain text on the TLS port (first byte {first[0]:#04x}): refused")
            self._wanted_events = 0
            self._unsettled = True
            self.write(self._refusal())
            # The request is unread: linger, or our close could reset the answer before it is read.
            self.close("plain HTTP on the TLS port", linger=True)
            return
        if self._events:
            # The wrapped socket is a new object on the same descriptor: the selector must forget the
            # old one first.
            self.loop.unregister(self.sock)
            self._events = 0
        self._tls = self._context.wrap_socket(self.sock, server_side=True, do_handshake_on_connect=False)
        self.sock = self._tls
        self._flush = self._flush_records  # SSL_write has neither sendmsg nor sendfile
        self._handshake()

    def _handshake(self) -> None:
        tls = self._tls
        assert tls is not None
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            self._want(EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self._want(EVENT_WRITE)
            return
        except ssl.SSLError as error:
            # Garbage, a truncated ClientHello, an old protocol version, no shared cipher.
            logger.debug("%r: TLS handshake failed: %s", self, error)
            if self.trace is not None:
                self.trace("tls", f"handshake failed: {error.reason or error}")
            failures = self.counters.tls_handshake_failures
            reason = error.reason or "unknown"  # OpenSSL's name: NO_SHARED_CIPHER, UNSUPPORTED_PROTOCOL...
            failures[reason] = failures.get(reason, 0) + 1
            self._close("handshake failed")
            return
        except OSError as error:
            self._on_socket_error(error)
            return
        self._established = True
        self._records = tls._sslobj  # type: ignore[attr-defined]
        self._wanted_events = 0
        if self.trace is not None:
            cipher = tls.cipher()
            name = cipher[0] if cipher else "?"
            self.trace("tls", f"{tls.version()} {name} alpn={tls.selected_alpn_protocol() or '-'}")
        self._enter(READING)
        if self._reading:
            self._read_records()  # the request often travels with the client's Finished
        if self.state is not CLOSED:
            self._progress()

    def _want(self, events: int) -> None:
        """Watch for ``events`` only, for the handshake (or the peek before it)."""
        self._wanted_events = events
        self._unsettled = True
        if not self._in_callback:
            self._settle()

    # -- reading and sending records --------------------------------------------------------------

    def _read_records(self) -> None:
        """Read and deliver records until OpenSSL has nothing decrypted left: a record that arrived
        whole may be handed out in pieces, and what stays inside the SSL object never makes the
        socket readable again."""
        records = self._records
        assert records is not None
        size = self._limits.recv_size
        while True:
            try:
                data = records.read(size)  # b"" after the peer's close_notify
            except ssl.SSLWantReadError:
                return
            except ssl.SSLEOFError:
                data = b""  # the peer closed without close_notify: an end all the same
            except ssl.SSLWantWriteError:
                self._recv_wants_write = True
                self._update_wanted()
                if not self._in_callback:
                    self._settle()
                return
            except OSError as error:
                self._on_socket_error(error)
                return
            self._received(data)
            if not data or self.state is not READING or not records.pending():
                return

    def _settle(self) -> None:
        super()._settle()
        # Reading again (after a pause) with decrypted bytes waiting in OpenSSL: select would not
        # say so, the socket holds nothing more. Read them on the next pass.
        if (
            self.state is READING
            and self._records is not None
            and not self._pending_read_scheduled
            and self._records.pending()
        ):
            self._pending_read_scheduled = True
            self.loop.call_soon(self._read_pending)

    def _read_pending(self) -> None:
        self._pending_read_scheduled = False
        if self.state is READING:
            self._read_records()

    def send_now(self, data: bytes) -> None:
        """``write(data)``: records leave through the queue (SSL_write's retry rule: _flush_records),
        after the callback."""
        self.write(data)

    def _flush_records(self, sock: socket.socket) -> int:
        return self._queue.flush_copying(self._send_record, _FILE_CHUNK)

    def _send_record(self, data: bytes | memoryview) -> int:
        """SSL_write ``data``; "not now" is BlockingIOError for the queue, and a send that needs the
        peer's next record first watches for reads meanwhile."""
        assert self._records is not None
        try:
            return self._records.write(data)
        except ssl.SSLWantWriteError:
            raise BlockingIOError from None
        except ssl.SSLWantReadError:
            self._send_wants_read = True
            self._update_wanted()
            raise BlockingIOError from None

    def _update_wanted(self) -> None:
        self._wanted_events = (EVENT_READ if self._send_wants_read else 0) | (
            EVENT_WRITE if self._recv_wants_write else 0
        )
        self._unsettled = True

    # -- closing ----------------------------------------------------------------------------------

    def _send_close_notify(self) -> None:
        """Tell the peer the stream ends here, not cut by an attacker (RFC 8446 6.1). The peer's own
        close_notify is not awaited."""
        assert self._tls is not None
        # unwrap raises once ours is out, waiting for the peer's (or when the peer is gone): fine.
        with contextlib.suppress(OSError):
            self._tls.unwrap()

    def write_eof(self) -> None:
        """Under TLS the end of our stream is a close_notify, after which the ssl module reads no
        more: the connection closes instead, once what is queued has left."""
        self.close()

    def _shut_down_writing(self) -> bool:
        """close_notify, then the plain TCP half-close; what the peer still sends is read raw and
        dropped, without decrypting it."""
        if self._established and self._tls is not None:
            self._send_close_notify()
            if self._events:
                self.loop.unregister(self.sock)
                self._events = 0
            self.sock = self._plain_socket(self._tls)
            self._flush = self._queue.flush
            self._tls = None
            self._records = None
            self._established = False
        return super()._shut_down_writing()

    def _plain_socket(self, tls: ssl.SSLSocket) -> socket.socket:
        """The TCP socket under ``tls``, taken back from it (tests/simulation puts its own here)."""
        sock = socket.socket(fileno=tls.detach())
        sock.setblocking(False)
        return sock

    def _close(self, reason: str) -> None:
        if self.state is CLOSING and self._established:
            self._send_close_notify()  # a clean close: everything queued went out
        super()._close(reason)

    def _on_socket_error(self, error: OSError) -> None:
        if isinstance(error, ssl.SSLError):
            # A bad record, an alert from the peer: its problem, not ours.
            logger.debug("%r: TLS error: %s", self, error)
            self._close("tls error")
        else:
            super()._on_socket_error(error)
