"""TLS in the simulation: real ``ssl`` objects over memory BIOs on both sides of a simulated socket.

The server runs the real ``reactor/net/tls.py: TLSTransport``. What its context's ``wrap_socket`` returns
here is a ``MemoryTLSSocket``: the server's SSLObject over memory BIOs, with the calls the transport
makes on an SSLSocket (``do_handshake``, ``unwrap``...) and on its C object (``read``, ``write`` and
``pending``, through ``_sslobj``), moving bytes between the BIOs and the simulated socket as OpenSSL's
socket BIO moves them between itself and the kernel: a record at a time (no read-ahead: what follows
stays in the kernel, readable), a flight the socket does not take whole is SSL_ERROR_WANT_WRITE, and an
SSL_write refused so must be retried with the same bytes. The client is a ``TLSClient``: an SSLObject
whose output the peer puts on the TCP stream in pieces of any size, and which decrypts what the peer
reads.

Ciphertext differs from run to run (random nonces, keys), but not its length: the certificate's key
is RSA (fixed-length signatures) and every size the seed draws is of plaintext or of the stream. So
a run is still a pure function of its seed, and the checks compare decrypted plaintext.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import random
import shutil
import ssl
import subprocess
import tempfile
from typing import cast

from reactor.net.tls import TLSTransport, load_context
from tests.simulation.network import SimFile, SimSocket

# A TLS record (RFC 8446 5.1, RFC 5246 6.2): type, version, length, then at most 2^14 + 256 bytes.
RECORD_HEADER = 5
MAX_RECORD = 2**14 + 256
MAX_PLAINTEXT = 2**14  # a write of at most this much is one record
_RECORD_TYPES = frozenset({20, 21, 22, 23})  # change_cipher_spec, alert, handshake, application_data


def _want_read() -> ssl.SSLWantReadError:
    return ssl.SSLWantReadError(ssl.SSL_ERROR_WANT_READ, "The operation did not complete (read)")


def _want_write() -> ssl.SSLWantWriteError:
    return ssl.SSLWantWriteError(ssl.SSL_ERROR_WANT_WRITE, "The operation did not complete (write)")


def certificate() -> str:
    """A self-signed RSA certificate and its key in one PEM file, made with ``openssl`` once per
    machine (no key is committed). Raises RuntimeError without openssl."""
    where = os.path.join(tempfile.gettempdir(), "reactor-simulation-tls")
    path = os.path.join(where, "server.pem")
    if os.path.exists(path):
        return path
    if shutil.which("openssl") is None:
        raise RuntimeError("the simulation's HTTPS runs need openssl to make a certificate: apt-get install openssl")
    staging = tempfile.mkdtemp(prefix="reactor-simulation-tls-staging-")
    # Serial and subject fixed: the certificate's length, hence the handshake's, is the same every time.
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "36500", "-set_serial", "1"]
    command += ["-subj", "/CN=sim", "-keyout", "key.pem", "-out", "cert.pem"]
    subprocess.run(command, cwd=staging, capture_output=True, check=True, timeout=60)
    with open(os.path.join(staging, "server.pem"), "wb") as out:
        for name in ("cert.pem", "key.pem"):
            with open(os.path.join(staging, name), "rb") as part:
                out.write(part.read())
    os.makedirs(where, exist_ok=True)
    try:
        os.rename(os.path.join(staging, "server.pem"), path)  # atomic: another process may race us
    finally:
        shutil.rmtree(staging)
    return path


def client_contexts() -> dict[str, ssl.SSLContext]:
    """Client contexts by the TLS version they insist on. The certificate is not verified: both ends
    are ours, and what is tested is the transport."""
    contexts = {}
    for name, version in (("TLSv1.2", ssl.TLSVersion.TLSv1_2), ("TLSv1.3", ssl.TLSVersion.TLSv1_3)):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = context.maximum_version = version
        context.set_alpn_protocols(["http/1.1"])
        contexts[name] = context
    return contexts


class MemoryContext:
    """Stands in for the server's SSLContext (the real one, from tls.load_context) where TLSTransport
    wraps its socket: the SSLObject it makes runs over memory BIOs tied to the simulated socket."""

    def __init__(self, cert: str) -> None:
        self.context = load_context(cert)
        self.sockets: list[MemoryTLSSocket] = []

    def wrap_socket(self, sock: SimSocket, server_side: bool, do_handshake_on_connect: bool) -> MemoryTLSSocket:
        assert server_side and not do_handshake_on_connect
        wrapped = MemoryTLSSocket(sock, self.context)
        self.sockets.append(wrapped)
        return wrapped


class MemoryTLSTransport(TLSTransport):
    """The real TLSTransport; only the plain socket it takes back to linger is the simulated one,
    not ``socket.socket(fileno=...)`` of a descriptor that does not exist."""

    def _plain_socket(self, tls: ssl.SSLSocket) -> SimSocket:  # type: ignore[override]
        return cast(MemoryTLSSocket, tls).detach_socket()


class MemoryTLSSocket(SimFile):
    """The server's wrapped socket: what TLSTransport calls on an SSLSocket and its ``_sslobj``."""

    def __init__(self, sock: SimSocket, context: ssl.SSLContext) -> None:
        self.sock = sock
        self.fd = sock.fd
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._obj = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._sslobj = self  # the transport reads and writes records through this, as through SSLSocket's
        self._unsent = bytearray()  # records made that the socket has not taken yet
        self._refused: bytes | None = None  # what an SSL_write that wanted to write was given
        self._head = bytearray()  # the header of the record being read, while incomplete
        self._record_left = 0  # bytes of the record being read still in the socket
        self.detached = False
        self.established = False  # the handshake completed
        # When an SSL_write last completed (or the handshake): under TLS the transport sees its sends
        # progress only then, not as each record's bytes leave, so a timeout counts from here.
        self.last_progress = sock.clock()
        self.close_notify = False  # our close_notify was handed whole to the socket
        self.close_notify_refused = False  # the socket had no room for it
        self.violations: list[str] = []

    def __repr__(self) -> str:
        return f"<MemoryTLSSocket fd={self.fd} unsent={len(self._unsent)}>"

    @property
    def closed(self) -> bool:  # type: ignore[override]
        return self.sock.closed or self.detached

    @property
    def progress(self) -> int:  # type: ignore[override]
        return self.sock.progress

    def readiness(self) -> int:
        return self.sock.readiness()

    def getsockname(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def close(self) -> None:
        self.sock.close()

    def detach_socket(self) -> SimSocket:
        """The TCP socket under this one, for plain reads once close_notify is out."""
        self.detached = True
        return self.sock

    # -- SSLSocket ----------------------------------------------------------------------------------

    def do_handshake(self) -> None:
        self._send_unsent()
        while True:
            try:
                self._obj.do_handshake()
            except ssl.SSLWantReadError:
                self._collect()
                self._send_unsent()  # OpenSSL writes its flight before it waits for the answer
                self._receive()
                continue
            except ssl.SSLError:
                self._send_alert()
                raise
            self._collect()
            self._send_unsent()  # TLS 1.3's session tickets go before the handshake is said done
            self.established = True
            self.last_progress = self.sock.clock()
            return

    def unwrap(self) -> MemoryTLSSocket:
        """Send close_notify, then read the peer's if the socket holds it already (SSL_shutdown's
        second call); raises SSLWantReadError when it does not, SSLWantWriteError when the socket
        has no room for ours."""
        self._send_unsent()
        while True:
            try:
                self._obj.unwrap()
            except ssl.SSLWantReadError:
                self._send_close_notify()
                self._receive()
                continue
            except ssl.SSLError:  # what the peer sent is no close_notify: ours is out all the same
                self._send_close_notify()
                raise
            self._send_close_notify()
            return self

    def cipher(self) -> tuple[str, str, int] | None:
        return self._obj.cipher()

    def version(self) -> str | None:
        return self._obj.version()

    def selected_alpn_protocol(self) -> str | None:
        return self._obj.selected_alpn_protocol()

    # -- its C object (_sslobj) -----------------------------------------------------------------------

    def read(self, size: int) -> bytes:
        while True:
            try:
                return self._obj.read(size)
            except ssl.SSLWantReadError:
                self._receive()
            except ssl.SSLError:
                self._send_alert()
                raise

    def write(self, data: bytes | memoryview) -> int:
        if self._refused is not None:
            # OpenSSL's retry rule: the same bytes again (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets
            # them move, not change).
            if bytes(data) != self._refused:
                self.violations.append(
                    f"fd {self.fd}: SSL_write retried with {len(data)} other bytes after wanting to write "
                    f"{len(self._refused)}"
                )
                raise ssl.SSLError(1, "bad write retry")
            self._send_unsent()
            self._refused = None
            self.last_progress = self.sock.clock()
            return len(data)
        count = self._obj.write(data)
        self._collect()
        try:
            self._send_unsent()
        except ssl.SSLWantWriteError:
            self._refused = bytes(data)
            raise
        self.last_progress = self.sock.clock()
        return count

    def pending(self) -> int:
        return self._obj.pending()

    # -- the socket BIO ---------------------------------------------------------------------------

    def _receive(self) -> None:
        """Move the next piece of the record being read from the socket to the incoming BIO: without
        read-ahead OpenSSL asks for a record's header, then for its body. Raises SSLWantReadError when
        the socket holds nothing; the peer's end is the BIO's end."""
        want = self._record_left or RECORD_HEADER - len(self._head)
        try:
            data = self.sock.recv(want)
        except BlockingIOError:
            raise _want_read() from None
        if not data:
            self._incoming.write_eof()
            return
        self._incoming.write(data)
        if self._record_left:
            self._record_left -= len(data)
            return
        self._head += data
        if len(self._head) == RECORD_HEADER:
            self._record_left = int.from_bytes(self._head[3:5], "big")
            self._head.clear()

    def _collect(self) -> None:
        self._unsent += self._outgoing.read()

    def _send_unsent(self) -> None:
        """Write what is made to the socket; raises SSLWantWriteError when it takes not all of it."""
        while self._unsent:
            try:
                sent = self.sock.send(memoryview(self._unsent))
            except BlockingIOError:
                raise _want_write() from None
            del self._unsent[:sent]

    def _send_alert(self) -> None:
        """A fatal error's alert, as OpenSSL writes it on the way out, if the socket takes it."""
        self._collect()
        with contextlib.suppress(ssl.SSLWantWriteError, OSError):
            self._send_unsent()

    def _send_close_notify(self) -> None:
        self._collect()
        try:
            self._send_unsent()
        except ssl.SSLWantWriteError:
            self.close_notify_refused = True
            raise
        self.close_notify = True


class TLSClient:
    """A peer's side of TLS: a client SSLObject over memory BIOs. What it makes waits in ``wire``
    until the peer puts it on the TCP stream, in pieces of any size; what the peer reads from the
    stream it decrypts. ``records`` maps positions of the stream to plaintext: (the end of each
    record in the stream, the plaintext sent up to it)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._obj = context.wrap_bio(self._incoming, self._outgoing, server_side=False, server_hostname="sim")
        self.wire = bytearray()  # made, not yet on the stream
        self.handed = 0  # bytes put on the stream
        self.plain = 0  # plaintext encrypted
        self.records: list[tuple[int, int]] = []
        self.started = False  # the ClientHello is made
        self.established = False
        self.close_notify = False  # the server's close_notify arrived
        self.error = ""  # the TLS error the server's bytes raised here, if any

    def handshake(self) -> None:
        """Make the next handshake flight: the ClientHello, then (once the server's flight is read)
        the Finished."""
        self.started = True
        try:
            self._obj.do_handshake()
            self.established = True
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as error:
            self.error = self.error or str(error)
        self._collect()

    def encrypt(self, data: bytes) -> None:
        """Encrypt ``data`` as records of at most MAX_PLAINTEXT bytes each."""
        for start in range(0, len(data), MAX_PLAINTEXT):
            piece = data[start : start + MAX_PLAINTEXT]
            self._obj.write(piece)
            self.plain += len(piece)
            self._collect()

    def close_notify_out(self) -> None:
        """Make our close_notify (the peer half-closes after it)."""
        with contextlib.suppress(ssl.SSLError):  # SSLWantReadError: the server's is not awaited
            self._obj.unwrap()
        self._collect()

    def take(self, count: int) -> bytes:
        """The next ``count`` bytes of what was made, to put on the stream."""
        piece = bytes(self.wire[:count])
        del self.wire[:count]
        self.handed += len(piece)
        return piece

    def truncate(self, rng: random.Random) -> None:
        """Cut the last record made (still unsent) short: it never arrives whole, nor its plaintext."""
        end, _ = self.records.pop()
        start, self.plain = self.records[-1] if self.records else (0, 0)
        cut = rng.randint(1, max(1, min(end - start, len(self.wire)) - 1))
        del self.wire[len(self.wire) - cut :]
        self.records.append((self.handed + len(self.wire), self.plain))

    def decrypt(self, data: bytes) -> bytes:
        """The plaintext that ``data``, the next bytes of the server's stream, completes."""
        if self.close_notify:
            self.error = self.error or f"{len(data)} bytes after the server's close_notify"
            return b""
        self._incoming.write(data)
        out = bytearray()
        try:
            if not self.established:
                self._obj.do_handshake()
                self.established = True
            while piece := self._obj.read(64 * 1024):
                out += piece
            self.close_notify = True  # read() says b"" at the close_notify
        except ssl.SSLZeroReturnError:  # or raises this (TLS 1.2)
            self.close_notify = True
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as error:
            self.error = self.error or str(error)
        self._collect()  # our Finished, once the server's flight is read
        return bytes(out)

    def plaintext_taken(self, taken: int) -> int:
        """The plaintext of the records wholly among the first ``taken`` bytes of our stream."""
        index = bisect.bisect_right(self.records, (taken, 1 << 62))
        return self.records[index - 1][1] if index else 0

    def _collect(self) -> None:
        data = self._outgoing.read()
        if data:
            self.wire += data
            self.records.append((self.handed + len(self.wire), self.plain))


def records_only(wire: bytes) -> str:
    """'' when ``wire`` is TLS records end to end (the last may be cut short by a close), else where
    it is not: what plaintext on a TLS connection looks like."""
    position = 0
    while position + RECORD_HEADER <= len(wire):
        kind, major = wire[position], wire[position + 1]
        length = int.from_bytes(wire[position + 3 : position + 5], "big")
        # Any minor version: an alert to a ClientHello whose version was garbled echoes the garbage.
        if kind not in _RECORD_TYPES or major != 3 or length > MAX_RECORD:
            return f"not a TLS record at byte {position}: {wire[position : position + 24]!r}"
        position += RECORD_HEADER + length
    return ""
