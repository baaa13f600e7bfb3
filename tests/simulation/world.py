"""One simulated run: the real EventLoop, Acceptor and Listener, Transport or TLSTransport,
HTTPConnection, static handler (compression and uploads included) and WSGI gateway (inline or on
worker threads) over a simulated listening socket and simulated connections, a simulated selector,
worker threads that run one at a time (lockstep.py) and a fake clock, driven step by step by a seeded
random source; then the invariants, checked against a reference.

Every run is a pure function of its seed: the scenario (limits, network faults, HTTP or HTTPS,
clients and their requests, a shutdown) is drawn first, then each step picks one action of a peer
(connect, send, read, half-close, reset), of a worker thread (run until it waits or its job ends) or
of the clock (a jump, often just past the next timer), and runs one loop iteration. When nothing can
act and nothing is ready, the clock jumps to the next timer: a connection that makes no progress
must be closed by a timeout. ``Simulation.run`` returns every broken invariant in its Result.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import logging
import os
import random
import shutil
import socket
import ssl
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TextIO, cast
from unittest import mock

from handlers.static import files
from reactor.httpconnection import ConnectionConfig, HTTPConnection, refuse_plain_http
from reactor.limits import Limits
from reactor.loop.clock import HttpDate
from reactor.loop.eventloop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.loop.timers import TimerHandle
from reactor.net.acceptor import Acceptor
from reactor.net.iostate import IOState
from reactor.net.transport import Transport
from reactor.testing import FakeClock
from reactor.trace.tracer import Tracer
from tests.simulation.answers import TLS_FAILURES, Reference, check_answers, check_refusal
from tests.simulation.lockstep import Lockstep, Worker
from tests.simulation.model import check_reference
from tests.simulation.network import Faults, SimFile, SimListener, SimNetwork, SimSelector, SimSocket
from tests.simulation.peer import Peer, PeerScript
from tests.simulation.requests import INTERIM_CONTINUE, SimRequest
from tests.simulation.scenario import Scenario, draw_scenario
from tests.simulation.site import SimAppError, build_handler, upload_directory
from tests.simulation.tlsbio import (
    MemoryContext,
    MemoryTLSSocket,
    MemoryTLSTransport,
    TLSClient,
    certificate,
    client_contexts,
    records_only,
)
from tests.simulation.tree import check_tree

DATE = 1_750_000_000.0  # the Date header's wall clock, fixed: responses are compared byte for byte
MAX_STEPS = 20_000
REFERENCE_BYTES = 64 * 1024 * 1024  # answers kept for reuse, at most
# Jumps to the next timer in a row while nothing else can happen and no connection is accepted or
# closed: enough for clients waiting in the backlog through the accept backoff (0.5 s) until a
# keep-alive timeout (75 s) frees a descriptor. A run fails for want of progress only past this many
# jumps and past stall_bound's seconds (the backoff's jumps alone reach 200 in 100 s).
MAX_FORCED_JUMPS = 200
# A handler writes a response in one callback: past the high-water mark its largest piece may still
# bring a response head, multipart part heads and chunk-size lines with it (seed 7787: a 137-byte head
# and a 300 KiB file range behind 4 KiB still queued).
FRAMING_SLACK = 1024
# Interest follows state (docs/architecture.md, the I/O state table), said here again on its own: the
# states watched for reads, and those watched for writes while bytes are queued.
_READS = frozenset({IOState.READING, IOState.LINGERING})
_WRITES = frozenset({IOState.READING, IOState.WAITING, IOState.WRITING, IOState.CLOSING})
# What a batch of runs must reach (Result.seen counts them): the parts the simulation was built for.
SEEN = (
    "HTTPS handshakes",
    "HTTPS handshakes failed",
    "TLS records refused",
    "plain HTTP refused on the HTTPS port",
    "accepts failed for descriptors",
    "clients kept in the backlog",
    "worker thread jobs",
    "gzip answers read",
    "uploads stored",
)
# The closes that send what is queued first (Transport.close, not abort): under TLS, close_notify too.
CLEAN_CLOSES = frozenset({"closed", "peer closed", "protocol error", "request timeout", "shutdown"})


class _Records(logging.Handler):
    """Collects what the reactor and the handlers log at WARNING and above during a run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _FixedBoundary:
    """Stands in for ``secrets`` in handlers.static.files, which draws each multipart/byteranges boundary
    at random: the simulation compares bytes, so every boundary is this one."""

    @staticmethod
    def token_hex(nbytes: int) -> str:
        return "5e" * nbytes


class _Logs:
    """Routes the ``reactor`` and ``handlers`` loggers into a _Records for the length of a run."""

    def __init__(self) -> None:
        self.collected = _Records()
        self._saved: list[tuple[logging.Logger, bool]] = []

    def __enter__(self) -> _Records:
        for name in ("reactor", "handlers"):
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.propagate))
            logger.addHandler(self.collected)
            logger.propagate = False
        return self.collected

    def __exit__(self, *exc: object) -> None:
        for logger, propagate in self._saved:
            logger.removeHandler(self.collected)
            logger.propagate = propagate


def stall_bound(limits: Limits) -> float:
    """The longest a connection may go on without an accept or a close anywhere, in seconds: a peer
    that half sends a head and reads nothing of the response before it meets the longest read
    timeout, then the send timeout while closing, then the whole lingering time (seed 3004676: the
    header timeout, then the send timeout, with the accept backoff firing every 0.5 s meanwhile)."""
    longest_read = max(limits.handshake_timeout, limits.header_timeout, limits.body_timeout, limits.keepalive_timeout)
    return longest_read + limits.send_timeout + limits.lingering_time + limits.accept_backoff


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@dataclass
class Connection:
    """One connection of a world: the server's transport and its simulated peer."""

    transport: Transport
    protocol: HTTPConnection
    peer: Peer
    largest_write: int = 0  # the largest single write or file range the protocol handed over


class CountedTransport(Transport):
    """The real Transport, with an instance dict so that its write and write_file can be wrapped
    (World._count_writes)."""


class World:
    """The loop, the acceptor, the handler, the network, the worker threads and the clock of one run
    (or of one reference). Build it inside ``lockstep.installed()``: the handler's pools are made
    here."""

    def __init__(
        self,
        root: str,
        limits: Limits,
        faults: Faults,
        rng: random.Random,
        clock: FakeClock,
        tracer: Tracer | None,
        *,
        lockstep: Lockstep,
        threads: int = 0,
        tls: MemoryContext | None = None,
    ) -> None:
        self.limits = limits
        self.rng = rng
        self.tracer = tracer
        self.clock = clock
        self.lockstep = lockstep
        self.tls = tls
        self.network = SimNetwork(faults, rng, clock)
        self.selector = SimSelector(faults, rng)
        self.loop = EventLoop(clock=self.clock, selector=self.selector, tracer=tracer)
        self.upload_root = upload_directory()
        handler, self._close_handler = build_handler(root, self.upload_root, self.clock, threads)
        self.config = ConnectionConfig(handler, limits)
        self.config.http_date = HttpDate(lambda: DATE)
        self.refusal = refuse_plain_http(self.config) if tls is not None else b""  # to plain HTTP on HTTPS
        self.listener = SimListener(self.network, limits.accept_backoff)
        self.listener.on_refused = self._refused
        self.acceptor = Acceptor(
            self.loop,
            [cast(socket.socket, self.listener)],
            partial(HTTPConnection, self.config),
            limits,
            tracer=tracer,
            transport_factory=self._transport,
        )
        self.counters = self.acceptor.counters
        self.peers: list[Peer] = []  # connected: waiting in the backlog, accepted, or refused
        self.connections: list[Connection] = []  # accepted
        self.by_transport: dict[Transport, Connection] = {}
        self._by_socket: dict[SimSocket, Peer] = {}
        self.shut_down = False
        self._grace: TimerHandle | None = None
        self.violations: list[str] = []  # found while the run goes on
        self.waited = 0  # clients accepted later than the loop iteration after they connected
        self._connected_at: dict[SimSocket, int] = {}
        self.acceptor.start()

    def say(self, subject: str, fact: str, detail: str = "") -> None:
        if self.tracer is not None:
            self.tracer.line(subject, fact, detail)

    def connect(self, ident: int, script: PeerScript, clients: Mapping[str, ssl.SSLContext]) -> Peer:
        """A new peer playing ``script`` connects: it waits in the listener's backlog (its first
        bytes there already if it is ``early``) until the server accepts it."""
        sock = self.network.socket(40000 + ident)
        if self.tls is not None:
            sock.wire = bytearray()
        tls = TLSClient(clients[script.tls]) if script.tls else None
        peer = Peer(ident, script, sock, self.rng, tls)
        self.peers.append(peer)
        self._by_socket[sock] = peer
        if script.early and peer.can_send(self.clock()):
            peer.send(self.clock())  # the request is in the kernel before the accept returns
        self.listener.backlog.append(sock)
        self._connected_at[sock] = self.loop.statistics().iterations
        return peer

    def _transport(
        self,
        loop: EventLoop,
        sock: SimSocket,
        address: tuple[str, int],
        protocol: HTTPConnection,
        limits: Limits,
        *,
        on_closed: Callable[[Transport], object],
        **options: Any,
    ) -> Transport:
        """The acceptor's transport factory: the real Transport or TLSTransport on a simulated
        socket, whose close is checked here once the acceptor has counted it."""
        peer = self._by_socket[sock]
        self.waited += self.loop.statistics().iterations > self._connected_at[sock] + 1
        options.update(on_closed=partial(self._on_closed, on_closed), sendfile=self.network.sendfile)
        transport: Transport
        if self.tls is None:
            transport = CountedTransport(loop, cast(socket.socket, sock), address, protocol, limits, **options)
        else:
            refusal = partial(refuse_plain_http, self.config)
            transport = MemoryTLSTransport(
                loop,
                cast(socket.socket, sock),
                address,
                protocol,
                limits,
                context=cast(ssl.SSLContext, self.tls),
                refusal=refusal,
                **options,
            )
        connection = Connection(transport, protocol, peer)
        self._count_writes(connection)
        self.connections.append(connection)
        self.by_transport[transport] = connection
        self.say(f"peer{peer.ident}", "accepted", f"#{transport.id}")
        return transport

    def _count_writes(self, connection: Connection) -> None:
        """Wrap the transport's write and write_file to learn the largest piece handed to it."""
        transport = connection.transport
        write, write_file = transport.write, transport.write_file

        def counted_write(data: bytes) -> None:
            connection.largest_write = max(connection.largest_write, len(data))
            write(data)

        def counted_write_file(file: object, offset: int, count: int, owns_file: bool) -> None:
            connection.largest_write = max(connection.largest_write, count)
            write_file(file, offset, count, owns_file)  # type: ignore[arg-type]

        transport.write = counted_write  # type: ignore[method-assign]
        transport.write_file = counted_write_file  # type: ignore[method-assign]

    def _on_closed(self, acceptor_closed: Callable[[Transport], object], transport: Transport) -> None:
        acceptor_closed(transport)
        peer = self.by_transport[transport].peer
        peer.server_closed()
        # A timeout closes only a connection that made no progress for that long.
        reason = transport.close_reason
        limit = {"keep-alive timeout": self.limits.keepalive_timeout, "send timeout": self.limits.send_timeout}.get(
            reason
        )
        last = peer.sock.last_sent
        if self.tls is not None:
            # Under TLS progress is a whole SSL_write (up to 64 KiB): what the transport can see.
            last = next((tls.last_progress for tls in self.tls.sockets if tls.sock is peer.sock), last)
        idle = self.clock() - last
        if limit is not None and idle < limit:
            self.violations.append(f"{transport!r}: closed by the {reason} {idle:.3f} s after it last sent")
        if self._grace is not None and not self.open_connections():
            self._grace.cancel()
            self._grace = None

    def _refused(self, sock: SimSocket) -> None:
        """The listener closed with ``sock`` in its backlog: the kernel resets it."""
        peer = self._by_socket[sock]
        peer.lost = "refused: the server stopped listening with us in its backlog"
        self.say(f"peer{peer.ident}", "refused", "the listener closed")

    def shutdown(self) -> None:
        """What SIGTERM does to a Server: no more accepts (the backlog is reset), idle connections
        close now, busy ones after their response, and whatever is left when the grace runs out is
        aborted."""
        self.shut_down = True
        self.acceptor.close()
        for connection in self.open_connections():
            connection.protocol.shutdown()
        if self.open_connections():
            self._grace = self.loop.call_later(self.limits.grace, self._grace_expired)

    def _grace_expired(self) -> None:
        self._grace = None
        for connection in self.open_connections():
            connection.transport.abort("shutdown grace expired")

    def open_connections(self) -> list[Connection]:
        return [connection for connection in self.connections if connection.transport.state is not IOState.CLOSED]

    def quiet(self) -> bool:
        """Nothing would happen without a peer's or a worker's move, or time passing."""
        return not self.selector.has_ready() and self.loop.select_timeout() != 0

    def settle_workers(self) -> None:
        """Run the workers and the loop until neither has anything left to do now."""
        for _ in range(1000):
            runnable = self.lockstep.runnable()
            if runnable:
                runnable[0].resume()
            elif self.quiet():
                return
            self.loop.run_once()

    def close(self) -> None:
        for connection in self.open_connections():
            connection.transport.abort("simulation over")
        self.acceptor.close()
        self.loop.close()
        self._close_handler()
        self.lockstep.close()
        shutil.rmtree(self.upload_root)


@dataclass
class Result:
    seed: int
    violations: list[str] = field(default_factory=list)
    steps: int = 0
    requests: int = 0
    responses: int = 0
    closes: dict[str, int] = field(default_factory=dict)
    transcript: str = ""  # a digest of everything every peer read, and of every close
    # How often the run met each of SEEN.
    seen: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def ok(self) -> bool:
        return not self.violations


class Simulation:
    """Runs seeds against the files under ``root``; keeps the reference answers it has worked out."""

    def __init__(self, root: str) -> None:
        self.root = root
        # Worked out once, oldest dropped first past REFERENCE_BYTES: a long exploration meets the
        # same requests again and again, and a few hundred KiB file bodies among them.
        self._references: dict[tuple[Limits, bytes], Reference] = {}
        self._reference_bytes = 0
        self._certificate = certificate()
        self._clients = client_contexts()

    def run(self, seed: int, trace: TextIO | None = None) -> Result:
        rng = random.Random(seed)
        scenario = draw_scenario(rng, self.root)
        result = Result(seed)
        descriptors = _open_descriptors()
        clock = FakeClock()
        tracer = Tracer(trace, clock) if trace is not None else None
        lockstep = Lockstep()
        tls = MemoryContext(self._certificate) if scenario.tls else None
        with _Logs() as logs, mock.patch.object(files, "secrets", _FixedBoundary), lockstep.installed():
            world = World(
                self.root,
                scenario.limits,
                scenario.faults,
                rng,
                clock,
                tracer,
                lockstep=lockstep,
                threads=scenario.threads,
                tls=tls,
            )
            self._describe(world, scenario)
            try:
                self._drive(world, scenario, result)
                self._check_end(world, result)
            except Exception as error:  # the loop itself raised, or the simulation has a bug
                where = traceback.extract_tb(error.__traceback__)[-1]
                result.violations.append(f"raised {type(error).__name__}: {error} ({where.filename}:{where.lineno})")
            # Worked out here, where what the site logs on purpose is collected, and kept for the checks
            # below: the cache may drop any of them while the others are worked out.
            asked = [request for script in scenario.peers for request in script.requests]
            known = dict(zip((request.data for request in asked), self.references(world.limits, asked), strict=True))
            references = {
                ident: [known[request.data] for request in script.requests]
                for ident, script in enumerate(scenario.peers, 1)
            }
            answered = self._check_answers(world, scenario, references, result)
            uploads = [
                (request, index < answered.get(peer.ident, 0))
                for peer in world.peers
                for index, request in enumerate(peer.script.requests)
                if request.stores or request.folder
            ]
            stored, wrong = check_tree(world.upload_root, uploads)
            result.violations += wrong
            self._count_seen(world, stored, result.seen)
            world.close()
            result.violations += world.violations
        warned = 0
        for record in logs.records:
            failure = record.exc_info[1] if record.exc_info else None
            if (
                record.name == "reactor.net.listener"
                and record.getMessage().startswith("accept failed")
                and not failure
            ):
                warned += 1  # descriptors ran out (the run made them)
            elif not isinstance(failure, SimAppError):
                result.violations.append(f"logged {record.levelname} {record.name}: {record.getMessage()}")
        if warned != world.listener.episodes:
            episodes = world.listener.episodes
            result.violations.append(f"the listener warned {warned} times for {episodes} exhaustions (docs/emfile.md)")
        if _open_descriptors() != descriptors:
            result.violations.append(f"descriptors: {descriptors} open before the run, {_open_descriptors()} after")
        result.closes = dict(world.counters.closes)
        digest = hashlib.sha256()
        for peer in world.peers:
            connection = next((c for c in world.connections if c.peer is peer), None)
            reason = connection.transport.close_reason if connection is not None else peer.lost
            digest.update(bytes(peer.received) + b"\0" + reason.encode() + b"\0")
        result.transcript = digest.hexdigest()
        return result

    @staticmethod
    def _count_seen(world: World, stored: int, seen: collections.Counter[str]) -> None:
        """Count what the run reached of SEEN."""
        wrapped = world.tls.sockets if world.tls is not None else []
        counts = (
            sum(tls.established for tls in wrapped),
            sum(world.counters.tls_handshake_failures.values()),
            world.counters.closes.get("tls error", 0),
            world.counters.closes.get("plain HTTP on the TLS port", 0),
            len(world.listener.exhaustions),
            world.waited,
            world.lockstep.jobs_run,
            sum(peer.received.count(b"\r\nContent-Encoding: gzip\r\n") for peer in world.peers),
            stored,
        )
        seen.update(dict(zip(SEEN, counts, strict=True)))

    def _check_answers(
        self, world: World, scenario: Scenario, references: dict[int, list[Reference]], result: Result
    ) -> dict[int, int]:
        """Check what each peer read; returns how many of its requests each got answered."""
        answered: dict[int, int] = {}
        accepted = {connection.peer: connection for connection in world.connections}
        for peer in world.peers:
            connection = accepted.get(peer)
            result.requests += len(peer.script.requests)
            if connection is None:
                if not (peer.lost or peer.reset):
                    result.violations.append(f"peer{peer.ident} was never accepted, nor refused")
                continue
            transport = connection.transport
            reason = transport.close_reason
            wrapped = None
            if world.tls is not None:
                wrapped = next((tls for tls in world.tls.sockets if tls.sock is peer.sock), None)
                result.violations += self._check_tls(world, peer, reason, wrapped)
                if wrapped is None:  # refused as plain text: it read the refusal, if anything
                    result.violations += check_refusal(peer, reason, world.refusal)
                    continue
            count, wrong = check_answers(
                peer,
                reason,
                references[peer.ident],
                clock_chaos=scenario.clock_chaos > 0,
                shut_down=world.shut_down,
                close_raced=wrapped is not None and wrapped.close_notify_refused,
            )
            answered[peer.ident] = count
            result.responses += count
            result.violations += wrong
        return answered

    def _check_tls(self, world: World, peer: Peer, reason: str, wrapped: MemoryTLSSocket | None) -> list[str]:
        """What is wrong with an HTTPS connection: plaintext on the wire once the client's first byte
        said TLS; a TLS failure the client did not cause; no close_notify after a clean close."""
        where = f"connection #{peer.ident} ({peer.script.tls or 'plain HTTP'}, closed: {reason})"
        wire = bytes(peer.sock.wire or b"")
        if wrapped is None:
            return [] if world.refusal.startswith(wire) else [f"{where}: sent {wire[:80]!r} before any handshake"]
        violations = list(wrapped.violations)
        malformed = records_only(wire)
        if malformed or b"HTTP/1." in wire:
            violations.append(f"{where}: plaintext on a TLS connection: {malformed or 'an HTTP status line'}")
        tls = peer.tls
        if tls is None or peer.script.tls_fault:
            return violations  # the faults it injects are its own
        if reason in TLS_FAILURES or tls.error:
            violations.append(f"{where}: a TLS failure the client did not cause: {tls.error or reason}")
        clean = reason in CLEAN_CLOSES and wrapped.established and not wrapped.close_notify_refused
        cut = peer.reset or peer.lost or peer.stopped_reading or peer.sock.outbound
        if clean and not cut and not tls.close_notify:
            violations.append(f"{where}: no close_notify after a clean close")
        return violations

    # -- driving ----------------------------------------------------------------------------------

    def _describe(self, world: World, scenario: Scenario) -> None:
        limits, faults = scenario.limits, scenario.faults
        world.say(
            "sim",
            "limits",
            f"high_water={limits.high_water} recv_size={limits.recv_size} max_head={limits.max_head} "
            f"max_body={limits.max_body} max_discard={limits.max_discard} max_connections={limits.max_connections}",
        )
        world.say(
            "sim",
            "network",
            f"max_recv={faults.max_recv} eagain={faults.eagain} short={faults.short} capacity={faults.capacity} "
            f"descriptors={faults.descriptors} enfile={faults.enfile} clock_chaos={scenario.clock_chaos}",
        )
        world.say("sim", "server", f"tls={scenario.tls} threads={scenario.threads}")
        for ident, script in enumerate(scenario.peers, 1):
            world.say(
                f"peer{ident}",
                "script",
                f"pipelined={script.pipelined} stall_at={script.stall_at} half_close={script.half_close} "
                f"reset_at_step={script.reset_at_step} stop_reading_at={script.stop_reading_at} "
                f"start_step={script.start_step} early={script.early} max_send={script.max_send} "
                f"max_read={script.max_read}"
                + (
                    f" tls={script.tls or 'none'} corrupt_at={script.corrupt_at} truncate={script.truncate} "
                    f"close_notify={script.close_notify}"
                    if scenario.tls
                    else ""
                ),
            )
            for request in script.requests:
                world.say(f"peer{ident}", "request", f"{request.label} bytes={len(request.data)}")

    def _drive(self, world: World, scenario: Scenario, result: Result) -> None:
        rng = world.rng
        waiting = list(enumerate(scenario.peers, 1))
        forced = 0
        progress = (0, 0)
        progress_at = world.clock()
        stalled_for = stall_bound(world.limits)
        for step in range(MAX_STEPS):
            result.steps = step + 1
            if step == scenario.shutdown_at_step:
                world.say("sim", "shutdown", "idle connections close, busy ones after their response")
                world.shutdown()
                waiting.clear()  # the listener is closed: later clients are never accepted
                self._check_step(world, result)
            while waiting and waiting[0][1].start_step <= step:
                ident, script = waiting.pop(0)
                world.say(f"peer{ident}", "connect")
                world.connect(ident, script, self._clients)
            now = world.clock()
            actions: list[tuple[str, Peer | Worker]] = []
            for peer in world.peers:
                if peer.can_reset(step):
                    actions.append(("reset", peer))
                if peer.can_send(now):
                    actions += [("send", peer)] * 3
                if peer.can_read():
                    actions += [("read", peer)] * 3
                if peer.can_half_close():
                    actions.append(("half-close", peer))
            for worker in world.lockstep.runnable():
                actions += [("thread", worker)] * 2
            if actions and rng.random() < scenario.clock_chaos:
                self._jump(world, rng.choice((rng.uniform(0.0, 2.0), None)), "chaos")
            elif actions:
                kind, actor = rng.choice(actions)
                self._act(world, kind, actor, step)
            elif not world.quiet():
                pass  # something is ready: the loop runs it
            elif waiting:
                continue
            elif not world.open_connections() and all(peer.done for peer in world.peers):
                return
            else:
                # Each close or accept is progress: only jumps without any count against the bound.
                mark = (world.listener.accepts, sum(world.counters.closes.values()))
                if mark != progress:
                    forced, progress, progress_at = 0, mark, world.clock()
                forced += 1
                if forced > MAX_FORCED_JUMPS and world.clock() - progress_at > stalled_for:
                    result.violations.append(f"no progress: {MAX_FORCED_JUMPS} timer jumps left connections open")
                    return
                if world.loop.select_timeout() is None:
                    states = ", ".join(repr(c.transport) for c in world.open_connections()) or repr(world.listener)
                    result.violations.append(f"stuck at step {step}: nothing will happen, no timer: {states}")
                    return
                self._jump(world, None, "idle")
            world.loop.run_once()
            self._check_step(world, result)
        result.violations.append(f"not finished after {MAX_STEPS} steps")

    def _jump(self, world: World, seconds: float | None, why: str) -> None:
        """Move the clock by ``seconds``, or just past the next timer (None)."""
        if seconds is None:
            timeout = world.loop.select_timeout()
            seconds = 1.0 if timeout is None else timeout + 0.001
        world.clock.advance(seconds)
        world.say("sim", "clock", f"+{seconds:.3f}s ({why})")

    def _act(self, world: World, kind: str, actor: Peer | Worker, step: int) -> None:
        if isinstance(actor, Worker):
            world.say(actor.name, "runs", repr(actor.job))
            actor.resume()
            return
        peer = actor
        subject = f"peer{peer.ident}"
        if kind == "send":
            world.say(subject, "send", f"bytes={peer.send(world.clock())} sent={peer.sent}/{len(peer.stream)}")
        elif kind == "read":
            world.say(subject, "read", f"bytes={peer.read()} received={len(peer.received)}")
        elif kind == "half-close":
            peer.half_close()
            world.say(subject, "half-close")
        else:
            peer.do_reset()
            world.say(subject, "reset")

    # -- invariants -------------------------------------------------------------------------------

    def _check_step(self, world: World, result: Result) -> None:
        """After every step: the queue bound, interest follows state, and no busy-waiting."""
        high_water = world.limits.high_water
        for connection in world.open_connections():
            transport = connection.transport
            if transport.closing:
                connection.peer.stopped_serving()
            over = transport.queued - high_water
            if over > connection.largest_write + FRAMING_SLACK:
                result.violations.append(
                    f"{transport!r}: queued {transport.queued} > high water {high_water} "
                    f"+ largest write {connection.largest_write}"
                )
            state = transport.state
            # TLS adds what OpenSSL asks for: during the handshake that alone, read or write.
            tls_wants = transport._wanted_events
            if state is IOState.HANDSHAKING and tls_wants not in (EVENT_READ, EVENT_WRITE):
                result.violations.append(f"{transport!r}: the handshake waits for {tls_wants}, not read or write")
            wanted = tls_wants | (EVENT_READ if state in _READS else 0)
            wanted |= EVENT_WRITE if state in _WRITES and transport.queued else 0
            registered = world.selector.events_of(cast(SimFile, transport.sock))
            if registered != wanted:
                result.violations.append(f"{transport!r}: registered for {registered}, its state wants {wanted}")
        busy = world.selector.spinning + world.listener.early_retries
        if busy:
            result.violations += busy
            busy.clear()
        if len(result.violations) > 20:
            raise RuntimeError("too many violations")

    def _check_end(self, world: World, result: Result) -> None:
        """After the last step: nothing outlives its connection, no worker waits for ever, and every
        peer was accepted or refused."""
        world.settle_workers()  # what the last closes left them (an upload's fsync) runs now
        listener = world.listener
        if listener.exhaustions and world.clock() < listener.exhaustions[-1] + listener.backoff:
            self._jump(world, listener.exhaustions[-1] + listener.backoff - world.clock(), "the accept backoff")
        for _ in range(3):
            world.loop.run_once()  # callbacks scheduled by the last closes run (and do nothing)
        for connection in world.open_connections():
            result.violations.append(f"{connection.transport!r} still open at the end")
        watched = [key.fileobj for key in world.selector.get_map().values() if isinstance(key.fileobj, SimFile)]
        if any(fileobj is not listener for fileobj in watched):
            result.violations.append(f"the selector still watches {watched}")
        if world.loop.select_timeout() is not None:
            result.violations.append(f"a timer or callback outlives the connections: {world.loop.statistics()}")
        for worker in world.lockstep.waiting():
            result.violations.append(f"{worker!r} waits for ever on {worker.job!r}")
        result.violations += world.lockstep.failures
        closed = [c.transport for c in world.connections if c.transport.state is IOState.CLOSED]
        counted = sum(world.counters.closes.values())
        if counted != len(closed):
            result.violations.append(f"{counted} closes counted for {len(closed)} closed connections")
        for transport in closed:
            if transport.queued:
                result.violations.append(f"{transport!r}: {transport.queued} bytes still queued after close")
            if not transport.close_reason:
                result.violations.append(f"{transport!r}: closed without a reason")

    # -- references -------------------------------------------------------------------------------

    def reference(self, limits: Limits, request: SimRequest) -> Reference:
        """What ``request`` alone gets on a clean network with no time passing (see references)."""
        return self.references(limits, [request])[0]

    def references(self, limits: Limits, requests: list[SimRequest]) -> list[Reference]:
        """What each of ``requests`` gets alone, on a connection of its own to a server on a clean
        network with no time passing: sent whole, read whole; for one that accepts a coding, also
        what it gets once the gzip it started is made. Those not known yet are worked out in one
        world (the server's caches must not change its answers: that the runs check too), each that
        accepts a coding in a world of its own (once made, its gzip would answer the others)."""
        # One connection alone, sent whole and read whole: the connection limit, the water marks and the
        # recv size make no difference to its answer (that the runs, which draw them, get it anyway
        # checks as much).
        normal = Limits()
        limits = dataclasses.replace(
            limits,
            max_connections=1,
            high_water=normal.high_water,
            low_water=normal.low_water,
            recv_size=normal.recv_size,
        )
        found = {request.data: self._references.get((limits, request.data)) for request in requests}
        missing = [request for request in requests if found[request.data] is None]
        plain = [request for request in missing if not request.coded]
        for batch in ([plain] if plain else []) + [[request] for request in missing if request.coded]:
            lockstep = Lockstep()
            with mock.patch.object(files, "secrets", _FixedBoundary), lockstep.installed():
                world = World(self.root, limits, Faults.clean(), random.Random(0), FakeClock(), None, lockstep=lockstep)
                try:
                    for request in batch:
                        if found[request.data] is None:  # not asked twice
                            found[request.data] = self._reference(world, request)
                finally:
                    world.close()
        for data, known in found.items():
            assert known is not None
            if (limits, data) not in self._references:
                self._references[(limits, data)] = known
                self._reference_bytes += len(known.response)
        while self._reference_bytes > REFERENCE_BYTES:
            oldest = next(iter(self._references))
            self._reference_bytes -= len(self._references.pop(oldest).response)
        return [found[request.data] for request in requests]  # type: ignore[misc]

    def _reference(self, world: World, request: SimRequest) -> Reference:
        data, closes = self._answer_alone(world, request)
        later = self._answer_alone(world, request)[0] if request.coded else None
        error = check_reference(request, data, closes) if data else "no answer"
        if later is not None and later != data:
            error = error or check_reference(request, later, closes)
        return Reference(data, closes, error, later if later != data else None)

    def _answer_alone(self, world: World, request: SimRequest) -> tuple[bytes, bool]:
        """The final answer ``request`` gets on a new connection of a clean ``world`` (the others it
        had are closed first: one at a time), once the work it leaves to the workers is done; and
        whether the server closed after it."""
        for connection in world.open_connections():
            connection.transport.abort("answered")
        script = PeerScript((request,), True, None, False, None, None, 0, 1 << 30, 1 << 30, early=False)
        peer = world.connect(len(world.peers) + 1, script, {})
        for _ in range(1000):
            if peer.can_send(world.clock()):
                peer.sent = len(peer.stream)
                peer.sock.inbound += peer.stream
            runnable = world.lockstep.runnable()
            if peer.can_read():
                peer.read()
            elif runnable:
                runnable[0].resume()
            elif world.quiet():
                break
            world.loop.run_once()
        world.settle_workers()
        data = bytes(peer.received)
        while data.startswith(INTERIM_CONTINUE):
            data = data[len(INTERIM_CONTINUE) :]
        connection = next(c for c in world.connections if c.peer is peer)
        return data, connection.transport.closing
