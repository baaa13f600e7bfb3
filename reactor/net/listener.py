"""Listening sockets: binding them like http.server does, and accepting in bounded batches."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable

from reactor.limits import Limits
from reactor.loop.eventloop import EVENT_READ, EventLoop
from reactor.loop.timers import Handle
from reactor.net.socketerrors import ACCEPT_EXHAUSTION_ERRNOS, ACCEPT_SKIP_ERRNOS

logger = logging.getLogger(__name__)

AcceptCallback = Callable[[socket.socket, tuple[str, int]], None]


def check_port(port: int) -> int:
    """``port`` when it is a port number, 0 to 65535 (0: the kernel picks a free one). Raises
    ValueError otherwise: getaddrinfo takes a port modulo 65536, so 70000 would bind port 4464."""
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is not between 0 and 65535")
    return port


def bind(host: str | None, port: int, backlog: int, *, reuse_port: bool = False) -> socket.socket:
    """Return a non-blocking listening socket.

    With no host, listen on every address, dual-stack where the platform allows (as http.server
    does); otherwise on the first address ``host`` resolves to (an IPv4 or IPv6 literal, or a name).
    ``reuse_port`` lets several processes listen on the same port, the kernel spreading connections
    among them (SO_REUSEPORT). Raises ValueError for a port outside 0-65535, OSError
    (socket.gaierror for an unknown name) when the address cannot be had.
    """
    sock = _bound_socket(host, port, reuse_port)
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def reserve(host: str | None, port: int) -> socket.socket:
    """Bind without listening, with SO_REUSEPORT: the port is ours (and known, when ``port`` is 0), but
    no connection is queued here, so processes that ``bind(..., reuse_port=True)`` the same address
    receive them all. Raises ValueError or OSError as bind() does."""
    return _bound_socket(host, port, reuse_port=True)


def _bound_socket(host: str | None, port: int, reuse_port: bool) -> socket.socket:
    if host is None or host == "":
        host = "::" if socket.has_dualstack_ipv6() else "0.0.0.0"
    family, _type, _proto, _name, address = socket.getaddrinfo(
        host, check_port(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            # The unspecified address "::" serves IPv4 too where the platform allows (as http.server).
            dual_stack = address[0] == "::" and socket.has_dualstack_ipv6()
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if dual_stack else 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


class Listener:
    """Accepts connections on one listening socket and hands each to ``on_accept``.

    Accepts at most ``batch`` connections per readiness event, so one busy port cannot starve the
    connections already open. When accept fails for lack of descriptors or memory (EMFILE, ENFILE...),
    or for a reason nobody expects, it stops watching the socket for ``backoff`` seconds instead of
    spinning on a readable listener, and logs that once per episode (with the traceback when the
    reason is unexpected).
    """

    def __init__(
        self, loop: EventLoop, sock: socket.socket, on_accept: AcceptCallback, batch: int, backoff: float
    ) -> None:
        self.loop = loop
        self.sock = sock
        self._on_accept = on_accept
        self._batch = batch
        self._backoff = backoff
        self._registered = False
        self._at_limit = False  # the server holds as many connections as it may
        self._backoff_timer: Handle | None = None
        self._closed = False
        self._exhausted = False  # in an EMFILE episode (until the backlog is empty): logged already
        self.accepted = 0
        self.exhaustion_pauses = 0

    @property
    def address(self) -> tuple[str, int]:
        name = self.sock.getsockname()
        return name[0], name[1]

    def start(self) -> None:
        self._update_registration()

    def set_at_limit(self, at_limit: bool) -> None:
        """Stop accepting while the server is at its connection limit; resume when it is not."""
        self._at_limit = at_limit
        self._update_registration()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._backoff_timer is not None:
            self._backoff_timer.cancel()
        self._update_registration()
        self.sock.close()

    def _update_registration(self) -> None:
        wanted = not self._closed and not self._at_limit and self._backoff_timer is None
        if wanted and not self._registered:
            self.loop.register(self.sock, EVENT_READ, self.on_readable, None)
        elif not wanted and self._registered:
            self.loop.unregister(self.sock)
        self._registered = wanted

    def on_readable(self) -> None:
        for _ in range(self._batch):
            if not self._registered:
                return  # the last accept reached the connection limit
            try:
                sock, address = self.sock.accept()
            except BlockingIOError:
                self._exhausted = False  # the backlog is empty: an exhaustion episode is over
                return
            except InterruptedError:
                return
            except OSError as error:
                if error.errno in ACCEPT_SKIP_ERRNOS:
                    continue
                # Out of descriptors or memory, or an error we cannot explain: either way, retrying
                # at once would spin on a listener that stays readable.
                self._pause_for_backoff(error, unexpected=error.errno not in ACCEPT_EXHAUSTION_ERRNOS)
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.accepted += 1
            self._on_accept(sock, (address[0], address[1]))

    def _pause_for_backoff(self, error: OSError, unexpected: bool) -> None:
        self.exhaustion_pauses += 1
        if not self._exhausted:
            self._exhausted = True
            logger.warning(
                "accept failed (%s); not accepting for %.1f s; open connections go on",
                error.strerror,
                self._backoff,
                exc_info=error if unexpected else None,
            )
        self._backoff_timer = self.loop.call_later(self._backoff, self._end_backoff)
        self._update_registration()

    def _end_backoff(self) -> None:
        self._backoff_timer = None
        self._update_registration()


class ListenerGroup:
    """The listening sockets of one server and the connection limit they keep together: while
    ``max_connections`` are open, none of them accepts; new clients wait in the kernel's backlog."""

    def __init__(
        self, loop: EventLoop, sockets: Iterable[socket.socket], on_accept: AcceptCallback, limits: Limits
    ) -> None:
        self.listeners = [
            Listener(loop, sock, on_accept, limits.accept_batch, limits.accept_backoff) for sock in sockets
        ]
        self._max_connections = limits.max_connections
        self._at_limit = False

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [listener.address for listener in self.listeners]

    @property
    def accepted(self) -> int:
        return sum(listener.accepted for listener in self.listeners)

    def start(self) -> None:
        for listener in self.listeners:
            listener.start()

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()

    def count(self, open_connections: int) -> None:
        """Stop or resume accepting for the number of connections open now."""
        at_limit = open_connections >= self._max_connections
        if at_limit != self._at_limit:
            self._at_limit = at_limit
            for listener in self.listeners:
                listener.set_at_limit(at_limit)
