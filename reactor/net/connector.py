"""Outgoing TCP connections on the loop: a non-blocking connect, after which the socket goes to a
Transport like any accepted one (reactor/upstream.py does that for the reverse proxy).

``Connecting`` tries a peer's addresses in order (``localhost`` may be ::1 and 127.0.0.1, and a
development server often listens on one of them only): ``connect_ex`` starts the handshake without
waiting (EINPROGRESS), the loop says when the socket is writable, and SO_ERROR says whether the
handshake succeeded. A refusal moves on to the next address; a timer bounds the whole attempt. The
outcome is told once, on the loop, never inside the call that started it: ``on_connected(sock,
address)`` with the connected non-blocking socket, or ``on_failed(reason, timed_out)``.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable, Sequence

from reactor.loop.eventloop import EVENT_WRITE, EventLoop
from reactor.loop.timers import Handle

# (family, sockaddr) as socket.getaddrinfo gives them: what connect_ex takes for that family.
Address = tuple[socket.AddressFamily, tuple[str, int] | tuple[str, int, int, int]]

_IN_PROGRESS = frozenset({errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK})


def describe(address: Address) -> str:
    """``host:port``, an IPv6 host in brackets: how a log line or an error page names an address."""
    family, sockaddr = address
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"


class Connecting:
    """One connect in progress to the first of ``addresses`` that accepts, within ``timeout`` seconds
    in all. ``cancel()`` gives up without telling anyone."""

    __slots__ = ("_loop", "_addresses", "_on_connected", "_on_failed", "_sock", "_address", "_timer", "_errors")

    def __init__(
        self,
        loop: EventLoop,
        addresses: Sequence[Address],
        timeout: float,
        on_connected: Callable[[socket.socket, Address], object],
        on_failed: Callable[[str, bool], object],
    ) -> None:
        self._loop = loop
        self._addresses = list(addresses)
        self._on_connected = on_connected
        self._on_failed = on_failed
        self._sock: socket.socket | None = None  # being connected, registered for write
        self._address: Address | None = None  # where it is being connected
        # The timeout while connecting; then the failure's report, if one is scheduled: what cancel() stops.
        self._timer: Handle | None = loop.call_later(timeout, self._timed_out)
        self._errors: list[str] = []
        self._try_next()

    def __repr__(self) -> str:
        where = describe(self._address) if self._address is not None else "-"
        return f"<Connecting {where} left={len(self._addresses)}>"

    def cancel(self) -> None:
        """Stop trying: the socket being connected is closed; neither callback runs."""
        self._drop_socket()
        self._addresses.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _try_next(self) -> None:
        """Start connecting to the next address, or fail once none is left."""
        while self._addresses:
            address = self._address = self._addresses.pop(0)
            try:
                sock = socket.socket(address[0], socket.SOCK_STREAM)
            except OSError as error:  # EMFILE: no descriptor for it
                self._errors.append(f"{describe(address)}: {error.strerror}")
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            code = sock.connect_ex(address[1])
            if code == 0 or code in _IN_PROGRESS:
                # Even a connect done at once is reported through the loop: the caller is not re-entered.
                self._sock = sock
                self._loop.register(sock, EVENT_WRITE, None, self._on_writable)
                return
            sock.close()
            self._errors.append(f"{describe(address)}: {os.strerror(code)}")
        self._finish_failed("; ".join(self._errors) or "no address to connect to", timed_out=False)

    def _on_writable(self) -> None:
        sock = self._sock
        address = self._address
        assert sock is not None and address is not None
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self._drop_socket()
            self._errors.append(f"{describe(address)}: {os.strerror(code)}")
            self._try_next()
            return
        self._loop.unregister(sock)
        self._sock = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._on_connected(sock, address)

    def _timed_out(self) -> None:
        self._timer = None
        self._drop_socket()
        self._addresses.clear()
        self._on_failed("no connection within the timeout", True)

    def _finish_failed(self, reason: str, *, timed_out: bool) -> None:
        if self._timer is not None:
            self._timer.cancel()
        # Told on the loop's next pass: the first address may fail inside the constructor.
        self._timer = self._loop.call_soon(self._on_failed, reason, timed_out)

    def _drop_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            self._loop.unregister(sock)
            sock.close()
