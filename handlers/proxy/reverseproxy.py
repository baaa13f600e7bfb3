"""``--proxy PREFIX=URL``: requests under PREFIX are passed to an HTTP/1.1 backend and its responses
passed back, on the same loop, over the connections of an UpstreamPool (reactor/upstream.py).

Each request is one ``ProxiedExchange``: it takes an idle connection or opens one, sends the request
head with the fields of proxyfields.py and the target of ``backend_target``, then streams the body as
the client sends it (the client is not read from before the backend is connected, and is paused
whenever the backend is not taking the body), and streams the response back, pausing the backend while
the client's send queue is above the high-water mark. Nothing is held whole in memory either way.

Failures are answers: a backend that refuses, resets or closes before its response head, or sends a
malformed one, gets the client a 502; no connection or no head within ``--proxy-timeout``, a 504. Once
the response has begun, a failure cuts the client's connection, so a truncated body never passes for
a whole one. A client that leaves closes its backend connection (never pooled). An idempotent request
without a body that meets a reused connection closing under it is sent once more, on a new one (RFC
9110 9.2.2). An upgrade the backend accepts (101) becomes a tunnel (reactor/net/tunnel.py).
"""

from __future__ import annotations

import logging
import re
import socket
from dataclasses import dataclass

from handlers.proxy.proxyfields import IDEMPOTENT, backend_target, request_fields, response_fields, wants_upgrade
from reactor.exchange import Exchange
from reactor.http.client import ResponseHead
from reactor.limits import Limits
from reactor.loop.eventloop import EventLoop
from reactor.net.connector import Address, Connecting
from reactor.net.tunnel import open_tunnel
from reactor.upstream import UpstreamConnection, UpstreamPool

logger = logging.getLogger(__name__)

# http://host[:port][/path]: a host name, an IPv4 address or an IPv6 one in brackets; no user, query or
# fragment. The path is kept as written (it must need no percent-encoding to be sent as it is).
_URL = re.compile(
    r"http://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~]+)(?::([0-9]{1,5}))?(/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*)?",
    re.ASCII,
)


@dataclass(frozen=True)
class Backend:
    """Where a prefix is proxied to: ``url`` as given, its ``authority`` (host[:port] as written),
    its ``path`` (None when it had none) and the addresses its host resolved to, once, at start."""

    url: str
    authority: str
    path: str | None
    addresses: tuple[Address, ...]


def parse_backend(url: str) -> Backend:
    """A ``--proxy`` URL, its host resolved now (never later, on the loop). Raises ValueError with a
    one-line reason."""
    if url.startswith("https://"):
        raise ValueError(f"{url!r}: only http:// backends (a development server speaks plain HTTP)")
    match = _URL.fullmatch(url)
    if match is None:
        raise ValueError(f"{url!r} is not http://HOST[:PORT][/PATH]")
    host, port_text, path = match.groups()
    authority = f"{host}:{port_text}" if port_text else host
    port = int(port_text) if port_text else 80
    if not 0 < port < 65536:
        raise ValueError(f"{url!r}: port {port} is out of range")
    host = host.strip("[]")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ValueError(f"{url!r}: cannot resolve {host!r}: {getattr(error, 'strerror', None) or error}") from None
    addresses = tuple(dict.fromkeys((family, sockaddr) for family, _type, _proto, _name, sockaddr in found))
    return Backend(url, authority, path, addresses)  # type: ignore[arg-type]  # getaddrinfo's sockaddr union


def _client_address(exchange: Exchange) -> str:
    """The client's IP address as X-Forwarded-For gives it: an IPv4 client of a dual-stack socket
    (::ffff:192.0.2.1) as the IPv4 address it is."""
    host = exchange.client_address[0]
    return host[7:] if host.startswith("::ffff:") and "." in host else host


class ReverseProxy:
    """The handler of one ``--proxy PREFIX=URL``: every request it is given (a PrefixRouter gives it
    those under ``prefix``) goes to ``backend``. ``scheme``: what the clients speak to us, for
    X-Forwarded-Proto. ``close()`` closes every connection to the backend. ``counters()``: what it
    counts for the status page's metrics."""

    def __init__(self, loop: EventLoop, prefix: str, backend: Backend, limits: Limits, scheme: str = "http") -> None:
        self.prefix = prefix
        self.backend = backend
        self.scheme = scheme
        self.high_water = limits.high_water
        self.pool = UpstreamPool(loop, backend.addresses, limits.proxy_timeout, base_limits=limits)
        self.requests = 0  # requests given to it
        self.failures = 0  # answered by the proxy itself (502, 504) or cut, for the backend's fault

    def counters(self) -> dict[str, int]:
        """{name: count} of handlers/status/metrics.py: HANDLER_METRICS."""
        return {"proxied_requests": self.requests, "proxy_failures": self.failures}

    def __repr__(self) -> str:
        return f"<ReverseProxy {self.prefix} -> {self.backend.url}>"

    def __call__(self, exchange: Exchange) -> None:
        self.requests += 1
        ProxiedExchange(self, exchange).start()

    def close(self) -> None:
        self.pool.close()


class ProxiedExchange:
    """One request through the proxy: the Receiver (reactor/upstream.py) of its backend connection."""

    __slots__ = ("_proxy", "_exchange", "_target", "_fields", "_upgrade", "_upstream", "_connecting", "_retried")

    def __init__(self, proxy: ReverseProxy, exchange: Exchange) -> None:
        self._proxy = proxy
        self._exchange = exchange
        request = exchange.request
        backend = proxy.backend
        self._upgrade = wants_upgrade(request)
        self._target = backend_target(request, proxy.prefix, backend.path)
        client = _client_address(exchange)
        self._fields = request_fields(request, client, proxy.scheme, self._upgrade, backend.authority)
        self._upstream: UpstreamConnection | None = None
        self._connecting: Connecting | None = None
        self._retried = False

    def __repr__(self) -> str:
        return f"<ProxiedExchange {self._exchange.request.method} {self._target} -> {self._proxy.backend.url}>"

    def start(self) -> None:
        exchange = self._exchange
        exchange.on_abort(self._client_gone)
        if exchange.request.has_body:
            exchange.pause_body()  # read none of it before the backend can take it
        upstream = self._proxy.pool.take_idle()
        if upstream is not None:
            self._send(upstream)
        else:
            self._connect()

    def _connect(self) -> None:
        self._connecting = self._proxy.pool.connect(self._send, self._connect_failed)

    def _send(self, upstream: UpstreamConnection) -> None:
        self._connecting = None
        self._upstream = upstream
        request = self._exchange.request
        upstream.send(
            self,
            request.method,
            self._target,
            self._fields,
            request.content_length,
            chunked=request.chunked,
            upgrade=self._upgrade is not None,
        )
        if request.has_body:
            self._exchange.read_body(upstream.send_body, upstream.end_body)  # 100 Continue, if asked for
            self._exchange.resume_body()

    def _connect_failed(self, reason: str, timed_out: bool) -> None:
        self._connecting = None
        backend = self._proxy.backend.url
        if timed_out:
            seconds = self._proxy.pool.timeout
            self._failed(504, f"no connection to the backend {backend} within {seconds:g} s")
        else:
            self._failed(502, f"cannot connect to the backend {backend}: {reason}")

    def _client_gone(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        upstream, self._upstream = self._upstream, None
        if upstream is not None:
            upstream.abandon()

    # -- the Receiver -------------------------------------------------------------------------------

    def response_head(self, head: ResponseHead) -> None:
        exchange = self._exchange
        if head.status == 101:
            upstream = self._upstream
            assert upstream is not None
            self._upstream = None
            open_tunnel(exchange, response_fields(head), upstream)
            return
        exchange.start_response(head.status, response_fields(head), None if head.chunked else head.content_length)
        if (head.headers.get("content-type") or "").startswith("text/event-stream"):
            exchange.mark_long_lived()  # a graceful shutdown ends it rather than wait for its end

    def response_data(self, data: bytes) -> None:
        exchange = self._exchange
        exchange.write(data)
        upstream = self._upstream
        if upstream is None:
            return
        if exchange.finished:  # ended by a graceful shutdown: the rest is for nobody
            self._upstream = None
            upstream.abandon()
        elif exchange.queued > self._proxy.high_water:
            upstream.pause_response()
            exchange.on_drain(upstream.resume_response)

    def response(self, head: ResponseHead, body: bytes) -> None:
        self._upstream = None
        self._exchange.resume_body()  # the backend may have answered before the whole request body
        self._exchange.respond(head.status, response_fields(head), body)

    def response_end(self) -> None:
        self._upstream = None
        self._exchange.resume_body()  # the backend answered before the whole body: the rest is drained
        self._exchange.end()

    def response_failed(self, status: int, reason: str, retry: bool) -> None:
        self._upstream = None
        request = self._exchange.request
        if retry and not self._retried and request.method in IDEMPOTENT and not request.has_body:
            self._retried = True
            logger.info("%r: %s; trying again on a new connection", self, reason)
            self._connect()
            return
        self._failed(status, reason)

    def pause_request_body(self) -> None:
        self._exchange.pause_body()

    def resume_request_body(self) -> None:
        self._exchange.resume_body()

    def _failed(self, status: int, reason: str) -> None:
        exchange = self._exchange
        if exchange.aborted or exchange.finished:
            return
        self._proxy.failures += 1
        logger.warning("%r: %s", self, reason)
        if exchange.response_started:
            exchange.abort()  # a cut connection: the only way to say the body is not whole
        else:
            exchange.resume_body()  # what is left of the request body is drained, not waited for
            exchange.respond_error(status, reason)
