"""Every limit and timeout in one place, each default with its reason and the nginx directive it mirrors."""

from __future__ import annotations

import resource
from dataclasses import dataclass, field

KiB = 1024
MiB = 1024 * KiB


def descriptor_limit() -> int:
    """The process's soft RLIMIT_NOFILE (65536 when it is unlimited)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 65536 if soft == resource.RLIM_INFINITY else soft


def default_max_connections(descriptors: int | None = None) -> int:
    """Connections that ``descriptors`` (by default the descriptor limit) can hold: two each, since a
    connection may hold a file open while it sends it, with 16 spare for listeners, the wakeup socket
    and logging. nginx's worker_connections is set by hand; we derive it."""
    if descriptors is None:
        descriptors = descriptor_limit()
    return max(1, (descriptors - 16) // 2)


@dataclass(frozen=True)
class Limits:
    # Request head (RFC 9112 2.3, 5): nginx large_client_header_buffers 4 8k.
    max_request_line: int = 8 * KiB  # longer request line: 414
    max_head: int = 32 * KiB  # whole head, request line included: 431
    max_headers: int = 100  # header field lines: 431 (Apache LimitRequestFields 100)
    # Request body: nginx client_max_body_size 1m. Larger: 413.
    max_body: int = 1 * MiB
    # A body nobody reads (a POST to a static file) is read and dropped up to this size so the
    # connection can be kept; a larger one closes the connection after the response.
    max_discard: int = 64 * KiB

    # Timeouts in seconds, all on the loop's timer heap.
    header_timeout: float = 60.0  # whole request head (slowloris): nginx client_header_timeout 60s
    keepalive_timeout: float = 75.0  # idle between requests: nginx keepalive_timeout 75s
    body_timeout: float = 60.0  # between two body reads: nginx client_body_timeout 60s
    send_timeout: float = 60.0  # between two sends that moved data: nginx send_timeout 60s
    lingering_timeout: float = 5.0  # between reads while draining before close: nginx lingering_timeout 5s
    lingering_time: float = 30.0  # whole drain before close: nginx lingering_time 30s
    # Whole TLS handshake, from accept: nginx bounds it by client_header_timeout (60s); a handshake
    # takes two round trips, so 10 s is ample, and a client that stalls in it holds a descriptor.
    handshake_timeout: float = 10.0
    # --proxy: connecting to a backend, its whole response head, and each wait between reads of its
    # body or sends of the request: nginx proxy_connect_timeout, proxy_read_timeout and
    # proxy_send_timeout, 60s each.
    proxy_timeout: float = 60.0

    # Connections.
    max_connections: int = field(default_factory=default_max_connections)  # nginx worker_connections
    listen_backlog: int = 1024  # nginx listen backlog= (511 there; modern kernels allow more)
    accept_batch: int = 64  # accepts per readiness event, so one busy listener cannot starve the rest
    accept_backoff: float = 0.5  # pause after EMFILE/ENFILE before accepting again

    # Buffers: asyncio's water marks (64 KiB / 16 KiB) and a recv size that takes a pipeline at once.
    recv_size: int = 64 * KiB
    high_water: int = 64 * KiB  # queued response bytes above which we stop reading requests
    low_water: int = 16 * KiB  # below which we resume

    # Shutdown: responses in flight get this long after SIGTERM/SIGINT (nginx worker_shutdown_timeout).
    grace: float = 10.0
