"""What a seed decides before the first step: limits, network faults (descriptor exhaustion among
them), HTTP or HTTPS and how each client speaks it, whether the WSGI application runs on threads,
clients and their requests, and a shutdown."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

from reactor.limits import KiB, Limits, MiB
from tests.simulation.network import Faults
from tests.simulation.peer import PeerScript
from tests.simulation.requests import SimRequest, make_request
from tests.simulation.site import CONTENTS

STEPS_PER_STREAM = 300  # at least this many bytes' share of a stream per send, recv or read


@dataclass(frozen=True)
class Scenario:
    """Everything a seed decides before the first step."""

    limits: Limits
    faults: Faults
    peers: tuple[PeerScript, ...]
    clock_chaos: float  # chance per step of a clock jump while the peers are busy
    shutdown_at_step: int | None  # the server shuts down gracefully (SIGTERM) at this step
    tls: bool  # the server speaks HTTPS
    threads: int  # the WSGI gateway's worker threads (0: the application runs inline, on the loop)


def draw_scenario(rng: random.Random, root: str) -> Scenario:
    high_water = rng.choice((4 * KiB, 16 * KiB, 64 * KiB))
    max_head = rng.choice((2 * KiB, 32 * KiB))
    # More clients than the server takes at once (its connection limit, or the descriptors it has
    # left): some wait in the listener's backlog.
    crowded = rng.random() < 0.2
    limits = dataclasses.replace(
        Limits(),
        max_request_line=rng.choice((512, 8 * KiB)),
        max_head=max_head,
        max_headers=rng.choice((20, 100)),
        max_body=rng.choice((16 * KiB, 1 * MiB)),
        max_discard=rng.choice((1 * KiB, 64 * KiB)),
        recv_size=rng.choice((512, 64 * KiB)),
        high_water=high_water,
        low_water=high_water // 4,
        max_connections=rng.choice((1, 2, 16)) if crowded else 16,
    )
    scripts = []
    for _ in range(rng.choice((2, 3, 5)) if crowded else rng.choice((1, 1, 1, 2, 3))):
        drawn = [make_request(rng, limits, root) for _ in range(rng.choice((1, 2, 3, 5, 8)))]
        # RFC 9112 9.6: a client that asks to close sends nothing after that request.
        ending = next((index for index, request in enumerate(drawn) if request.closes), len(drawn))
        scripts.append(tuple(drawn[: ending + 1]))
    # Floors on the bytes moved per step keep a run within a few thousand steps: one byte at a time
    # is drawn for small exchanges, never for a 260 KiB file.
    sent = max(sum(len(request.data) for request in requests) for requests in scripts)
    answered = max(sum(_answer_size(request) for request in requests) for requests in scripts)
    faults = Faults(
        max_recv=max(rng.choice((1, 7, 100, 1500, 1 << 20)), sent // STEPS_PER_STREAM),
        eagain=rng.choice((0.0, 0.1, 0.5)),
        short=rng.choice((0.0, 0.3, 0.8)),
        capacity=max(rng.choice((1, 100, 8 * KiB, 200 * KiB)), answered // STEPS_PER_STREAM),
        spurious=rng.choice((0.0, 0.0, 0.05)),
        descriptors=rng.choice((1, 2, 1 << 20)) if crowded else 1 << 20,
        enfile=rng.choice((0.0, 0.0, 0.0, 0.2)),
    )
    tls = rng.random() < 0.25
    peers = []
    for requests in scripts:
        total = sum(len(request.data) for request in requests)
        speaks = rng.choice(("TLSv1.3", "TLSv1.3", "TLSv1.2", "")) if tls else ""
        peers.append(
            PeerScript(
                requests=requests,
                pipelined=rng.random() < 0.5,
                stall_at=rng.randint(0, total - 1) if rng.random() < 0.15 and total else None,
                half_close=rng.random() < 0.3,
                reset_at_step=rng.randint(1, 400) if rng.random() < 0.1 else None,
                stop_reading_at=rng.randint(0, 200_000) if rng.random() < 0.1 else None,
                start_step=rng.choice((0, 0, rng.randint(1, 50))),
                max_send=max(rng.choice((1, 10, 1000, 1 << 20)), total // STEPS_PER_STREAM),
                max_read=max(rng.choice((1, 50, 4000, 1 << 20)), answered // STEPS_PER_STREAM),
                early=rng.random() < 0.3,
                tls=speaks,
                # Mostly in the handshake (the ClientHello is some 300 bytes), sometimes in a request.
                corrupt_at=rng.randint(0, rng.choice((300, 600, 2000))) if speaks and rng.random() < 0.1 else None,
                truncate=bool(speaks) and rng.random() < 0.1,
                close_notify=bool(speaks) and rng.random() < 0.5,
            )
        )
    return Scenario(
        limits,
        faults,
        tuple(peers),
        clock_chaos=rng.choice((0.0, 0.0, 0.02, 0.2)),
        shutdown_at_step=rng.randint(0, 300) if rng.random() < 0.1 else None,
        tls=tls,
        threads=rng.choice((0, 0, 1, 2)),
    )


def _answer_size(request: SimRequest) -> int:
    """About how many bytes answer ``request`` (its body at most)."""
    target = request.data.split(b" ", 2)[1] if b" " in request.data else b""
    if target.startswith((b"/big.bin", b"/app/file")):
        return len(CONTENTS["big.bin"])
    if target.startswith(b"/medium.bin"):
        return len(CONTENTS["medium.bin"])
    if target.startswith(b"/app/stream"):
        query = dict(part.partition(b"=")[::2] for part in target.partition(b"?")[2].split(b"&"))
        return int(query[b"n"]) * int(query[b"size"])
    return len(request.data) + 1000
