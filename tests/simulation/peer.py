"""The simulated client of one connection: what it sends and when, what it reads, and how it
misbehaves (stalls, half-closes, resets, stops reading), all as its script and the seed say. On an
HTTPS server it speaks TLS (tlsbio.TLSClient), or plain HTTP to the wrong port, or TLS with a byte of
its stream flipped or its last record cut short."""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from tests.simulation.network import SimSocket
from tests.simulation.requests import SimRequest, Unparseable, final_responses
from tests.simulation.tlsbio import TLSClient

# With TLS, the most bytes of the stream a send or read moves is at least this: a handshake is some
# kilobytes, and each record of a byte of plaintext 22 bytes more; one at a time, a run would not end.
WIRE_PIECE = 64
CONTINUE_WAIT = 1.0  # a client that sent Expect: 100-continue sends the body anyway after this (curl: 1 s)


@dataclass(frozen=True)
class PeerScript:
    requests: tuple[SimRequest, ...]
    pipelined: bool  # send every request at once; otherwise each after the previous response
    stall_at: int | None  # send only this many bytes of the stream, then nothing more
    half_close: bool  # shut down the sending side once everything is sent
    reset_at_step: int | None  # reset the connection at this step
    stop_reading_at: int | None  # read this many bytes, then never read again
    start_step: int  # the step at which it connects
    max_send: int  # bytes per send, at most
    max_read: int  # bytes per read, at most
    early: bool  # the first bytes are there before the server accepts
    tls: str = ""  # the TLS version it speaks ("TLSv1.3"), "" for plain HTTP (on an HTTPS port too)
    corrupt_at: int | None = None  # with TLS: flip the byte at this position of its stream
    truncate: bool = False  # with TLS: its last record goes out cut short
    close_notify: bool = False  # with TLS: a half-close sends close_notify first

    @property
    def tls_fault(self) -> bool:
        """It speaks no TLS, or breaks it: a flipped byte, a record cut short, an end without close_notify
        (a truncation, RFC 8446 6.1: the server may send no more)."""
        ended_short = self.half_close and not self.close_notify
        return not self.tls or self.corrupt_at is not None or self.truncate or ended_short


class Peer:
    """Plays the client of ``sock``. ``step`` actions are chosen by the world; each one is legal
    when its ``can_...`` says so."""

    def __init__(
        self, ident: int, script: PeerScript, sock: SimSocket, rng: random.Random, tls: TLSClient | None = None
    ) -> None:
        self.ident = ident
        self.script = script
        self.sock = sock
        self.rng = rng
        self.tls = tls
        self.stream = b"".join(request.data for request in script.requests)
        self.ends: list[int] = []
        self.heads: list[int] = []  # where each request's body begins in the stream
        position = 0
        for request in script.requests:
            self.heads.append(position + request.head_length)
            position += len(request.data)
            self.ends.append(position)
        self.methods = [request.method for request in script.requests]
        self.sent = 0  # bytes of the stream sent (with TLS: encrypted, and their records made)
        self.received = bytearray()  # what we read (with TLS: decrypted)
        self.taken = 0  # bytes we took from the connection (with TLS: ciphertext)
        self.truncated = False
        self.reset = False  # we reset the connection
        self.lost = ""  # our unread bytes were destroyed by a reset from the server's side: why
        self.destroyed = 0  # bytes of the answer destroyed by a close of the server's with our bytes unread
        self.half_closed = False
        self.taken_at_closing: int | None = None  # bytes of the stream the server had read when it began closing
        self.head_sent_at: dict[int, tuple[float, int]] = {}  # request -> (time, bytes received then)
        self._finals_cache = (-1, 0)

    @property
    def stopped_reading(self) -> bool:
        limit = self.script.stop_reading_at
        return limit is not None and self.taken >= limit

    @property
    def server_gone(self) -> bool:
        return self.sock.closed

    @property
    def ended(self) -> bool:
        """We saw the end of the server's stream (or the connection is gone for us)."""
        if self.reset or self.lost:
            return True
        return (self.sock.closed or self.sock.write_shut) and not self.sock.outbound

    @property
    def done(self) -> bool:
        """Nothing more will happen on this connection from either side."""
        return self.sock.closed and (self.reset or self.lost != "" or not self.sock.outbound or self.stopped_reading)

    # -- what the peer may do ---------------------------------------------------------------------

    def finals(self) -> int:
        """Complete final responses read so far."""
        size, count = self._finals_cache
        if size != len(self.received):
            try:
                count = len(final_responses(bytes(self.received), self.methods, False)[0])
            except Unparseable:
                count = len(self.methods)  # the checks report it; the peer just goes on
            self._finals_cache = (len(self.received), count)
        return count

    def send_limit(self, now: float) -> int:
        """How far into the stream we may have sent by now."""
        script = self.script
        limit = len(self.stream) if script.stall_at is None else script.stall_at
        if not script.pipelined:
            outstanding = self.finals() + 1  # one request at a time
            if outstanding < len(self.ends):
                limit = min(limit, self.ends[outstanding - 1])
        index = bisect.bisect_right(self.ends, self.sent)
        if index < len(self.ends) and script.requests[index].expect_continue:
            head = self.heads[index]
            if self.sent >= head and index in self.head_sent_at:
                at, received = self.head_sent_at[index]
                if len(self.received) == received and now < at + CONTINUE_WAIT:
                    limit = min(limit, head)  # wait for the 100 (or any answer), a second at most
            elif self.sent < head:
                limit = min(limit, head)
        return limit

    def can_send(self, now: float) -> bool:
        if self.reset or self.lost or self.half_closed or self.ended:
            return False
        tls = self.tls
        if tls is not None and (tls.wire or not tls.started):
            return True
        return (tls is None or tls.established) and self.sent < self.send_limit(now)

    def send(self, now: float) -> int:
        """Put some bytes on the wire. Sending to a socket the server closed draws a reset, which
        destroys what we had not read yet."""
        tls = self.tls
        if tls is None:
            data = self._next_bytes(now)
        else:
            if not tls.wire:
                if not tls.started:
                    tls.handshake()
                else:
                    tls.encrypt(self._next_bytes(now))
                    if self.script.truncate and not self.truncated and self.sent >= self._everything():
                        self.truncated = True  # the last record, cut short: the rest never comes
                        tls.truncate(self.rng)
            data = tls.take(self.rng.randint(1, max(self.script.max_send, WIRE_PIECE)))
            corrupt = self.script.corrupt_at
            if corrupt is not None and tls.handed - len(data) <= corrupt < tls.handed:
                flipped = bytearray(data)
                flipped[corrupt - (tls.handed - len(data))] ^= 0x20
                data = bytes(flipped)
        if self.sock.closed:
            if self.sock.outbound:
                self.lost = "we sent after the server closed: its reset destroyed unread bytes"
                self.sock.outbound.clear()
            return len(data)
        self.sock.inbound += data
        return len(data)

    def _next_bytes(self, now: float) -> bytes:
        """The next piece of the stream, as far as we may send by now."""
        count = min(self.send_limit(now) - self.sent, self.rng.randint(1, self.script.max_send))
        data = self.stream[self.sent : self.sent + count]
        self.sent += count
        index = bisect.bisect_right(self.ends, self.sent - 1)
        if index < len(self.ends) and self.sent == self.heads[index] and index not in self.head_sent_at:
            self.head_sent_at[index] = (now, len(self.received))
        return data

    def _everything(self) -> int:
        """How much of the stream we ever send."""
        stall = self.script.stall_at
        return len(self.stream) if stall is None else stall

    def can_read(self) -> bool:
        return not self.reset and not self.lost and not self.stopped_reading and bool(self.sock.outbound)

    def read(self) -> int:
        most = self.script.max_read if self.tls is None else max(self.script.max_read, WIRE_PIECE)
        count = min(len(self.sock.outbound), self.rng.randint(1, most))
        limit = self.script.stop_reading_at
        if limit is not None:
            count = min(count, limit - self.taken)
        data = bytes(self.sock.outbound[:count])
        del self.sock.outbound[:count]
        self.taken += count
        self.received += data if self.tls is None else self.tls.decrypt(data)
        return count

    def can_half_close(self) -> bool:
        script = self.script
        tls = self.tls
        # With close_notify, after the handshake: before it there is none to send.
        ready = tls is None or (not tls.wire and (tls.established or not script.close_notify))
        return (
            script.half_close and not self.half_closed and not self.reset and self.sent >= self._everything() and ready
        )

    def half_close(self) -> None:
        self.half_closed = True
        if self.tls is not None and self.script.close_notify and self.tls.established:
            self.tls.close_notify_out()
            if not self.sock.closed:
                self.sock.inbound += self.tls.take(len(self.tls.wire))
        self.sock.peer_eof = True

    def can_reset(self, step: int) -> bool:
        at = self.script.reset_at_step
        return at is not None and step >= at and not self.reset and not self.sock.closed

    def do_reset(self) -> None:
        self.reset = True
        self.sock.reset = True
        self.sock.inbound.clear()
        self.sock.outbound.clear()

    # -- the server's side ------------------------------------------------------------------------

    def server_closed(self) -> None:
        """The server closed its socket. With bytes of ours still unread there, its kernel resets
        the connection (RFC 9112 9.6: why servers linger), and our unread bytes are destroyed."""
        self.stopped_serving()
        if self.sock.inbound and not self.reset:
            self.lost = f"the server closed with {len(self.sock.inbound)} of our bytes unread: reset"
            self.destroyed = len(self.sock.outbound)
            self.sock.outbound.clear()

    def stopped_serving(self) -> None:
        """The server began closing: what it reads from now on (lingering) it drops."""
        if self.taken_at_closing is None:
            self.taken_at_closing = self._taken()

    def _taken(self) -> int:
        """Bytes of our connection's stream the server has read (with TLS, ciphertext)."""
        return (self.sent if self.tls is None else self.tls.handed) - len(self.sock.inbound)

    def _consumed(self, surely: bool) -> int:
        """How far into our requests the server has read: with TLS, the plaintext of the records it
        took whole. A flipped byte may break its record, or not (OpenSSL ignores some, such as a
        ClientHello's record version): ``surely`` counts none from it on, else all."""
        taken = self._taken() if self.taken_at_closing is None else self.taken_at_closing
        tls = self.tls
        if tls is None:
            return taken
        if surely and self.script.corrupt_at is not None:
            taken = min(taken, self.script.corrupt_at)
        return tls.plaintext_taken(taken)

    def complete_heads(self) -> int:
        """Requests whose head the server may have read whole before it began closing."""
        return bisect.bisect_right(self.heads, self._consumed(surely=False))

    def complete_requests(self) -> int:
        """Requests the server surely read whole before it began closing."""
        return bisect.bisect_right(self.ends, self._consumed(surely=True))
