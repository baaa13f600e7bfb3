"""One simulated run: the real EventLoop, Transport, HTTPConnection, static handler and inline WSGI
gateway over simulated sockets, a simulated selector and a fake clock, driven step by step by a
seeded random source; then the invariants, checked against a reference.

Every run is a pure function of its seed: the scenario (limits, network faults, clients and their
requests, a shutdown) is drawn first, then each step picks one action of a peer (send, read,
half-close, reset) or of the clock (a jump, often just past the next timer), and runs one loop
iteration. When no peer can act and nothing is ready, the clock jumps to the next timer: a
connection that makes no progress must be closed by a timeout. ``Simulation.run`` returns every
broken invariant in its Result.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import socket
import traceback
from dataclasses import dataclass, field
from typing import TextIO, cast
from unittest import mock

from handlers import files
from reactor.clock import HttpDate
from reactor.connection import ConnectionConfig, HTTPConnection
from reactor.iostate import IOState
from reactor.limits import Limits
from reactor.loop import EVENT_READ, EVENT_WRITE, EventLoop
from reactor.testing import FakeClock
from reactor.timers import TimerHandle
from reactor.trace import Tracer
from reactor.transport import Counters, Transport
from tests.simulation.answers import Reference, check_answers
from tests.simulation.model import check_reference
from tests.simulation.network import Faults, SimNetwork, SimSelector, SimSocket
from tests.simulation.peer import Peer, PeerScript
from tests.simulation.requests import INTERIM_CONTINUE, SimRequest
from tests.simulation.scenario import Scenario, draw_scenario
from tests.simulation.site import SimAppError, build_handler

DATE = 1_750_000_000.0  # the Date header's wall clock, fixed: responses are compared byte for byte
MAX_STEPS = 20_000
REFERENCE_BYTES = 64 * 1024 * 1024  # answers kept for reuse, at most
MAX_FORCED_JUMPS = 60
# A handler writes a response in one callback: past the high-water mark its largest piece may still
# bring a response head, multipart part heads and chunk-size lines with it (seed 7787: a 137-byte head
# and a 300 KiB file range behind 4 KiB still queued).
FRAMING_SLACK = 1024
# Interest follows state (docs/architecture.md, the I/O state table), said here again on its own: the
# states watched for reads, and those watched for writes while bytes are queued.
_READS = frozenset({IOState.READING, IOState.LINGERING})
_WRITES = frozenset({IOState.READING, IOState.WAITING, IOState.WRITING, IOState.CLOSING})


class _Records(logging.Handler):
    """Collects what the reactor and the handlers log at WARNING and above during a run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _FixedBoundary:
    """Stands in for ``secrets`` in handlers.files, which draws each multipart/byteranges boundary
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
    """The loop, the handler, the network and the clock of one run (or of one reference)."""

    def __init__(
        self, root: str, limits: Limits, faults: Faults, rng: random.Random, clock: FakeClock, tracer: Tracer | None
    ) -> None:
        self.limits = limits
        self.rng = rng
        self.tracer = tracer
        self.clock = clock
        self.network = SimNetwork(faults, rng, clock)
        self.selector = SimSelector(faults, rng)
        self.loop = EventLoop(clock=self.clock, selector=self.selector, tracer=tracer)
        handler, self._close_handler = build_handler(root, self.clock)
        self.config = ConnectionConfig(handler, limits)
        self.config.http_date = HttpDate(lambda: DATE)
        self.counters = Counters()
        self.connections: list[Connection] = []
        self.by_transport: dict[Transport, Connection] = {}
        self.shut_down = False
        self._grace: TimerHandle | None = None
        self.violations: list[str] = []  # found while the run goes on

    def say(self, subject: str, fact: str, detail: str = "") -> None:
        if self.tracer is not None:
            self.tracer.line(subject, fact, detail)

    def connect(self, ident: int, script: PeerScript) -> Connection:
        """Accept a connection from a new peer playing ``script``."""
        sock = self.network.socket()
        peer = Peer(ident, script, sock, self.rng)
        if script.early and peer.can_send(self.clock()):
            peer.send(self.clock())  # the request is in the kernel before the accept returns
        protocol = HTTPConnection(self.config)
        transport = CountedTransport(
            self.loop,
            cast(socket.socket, sock),
            ("127.0.0.1", 40000 + peer.ident),
            protocol,
            self.limits,
            ident=peer.ident,
            counters=self.counters,
            tracer=self.tracer,
            on_closed=self._on_closed,
            sendfile=self.network.sendfile,
        )
        connection = Connection(transport, protocol, peer)
        self._count_writes(connection)
        self.connections.append(connection)
        self.by_transport[transport] = connection
        transport.start()
        return connection

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

    def _on_closed(self, transport: Transport) -> None:
        peer = self.by_transport[transport].peer
        peer.server_closed()
        # A timeout closes only a connection that made no progress for that long.
        reason = transport.close_reason
        limit = {"keep-alive timeout": self.limits.keepalive_timeout, "send timeout": self.limits.send_timeout}.get(
            reason
        )
        idle = self.clock() - peer.sock.last_sent
        if limit is not None and idle < limit:
            self.violations.append(f"{transport!r}: closed by the {reason} {idle:.3f} s after it last sent")
        if self._grace is not None and not self.open_connections():
            self._grace.cancel()
            self._grace = None

    def shutdown(self) -> None:
        """What SIGTERM does to a Server: idle connections close now, busy ones after their
        response, and whatever is left when the grace runs out is aborted."""
        self.shut_down = True
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
        """Nothing would happen without a peer's action or time passing."""
        return not self.selector.has_ready() and self.loop.select_timeout() != 0

    def close(self) -> None:
        for connection in self.open_connections():
            connection.transport.abort("simulation over")
        self.loop.close()
        self._close_handler()


@dataclass
class Result:
    seed: int
    violations: list[str] = field(default_factory=list)
    steps: int = 0
    requests: int = 0
    responses: int = 0
    closes: dict[str, int] = field(default_factory=dict)
    transcript: str = ""  # a digest of everything every peer read, and of every close

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

    def run(self, seed: int, trace: TextIO | None = None) -> Result:
        rng = random.Random(seed)
        scenario = draw_scenario(rng, self.root)
        result = Result(seed)
        descriptors = _open_descriptors()
        clock = FakeClock()
        tracer = Tracer(trace, clock) if trace is not None else None
        with _Logs() as logs, mock.patch.object(files, "secrets", _FixedBoundary):
            world = World(self.root, scenario.limits, scenario.faults, rng, clock, tracer)
            self._describe(world, scenario)
            try:
                self._drive(world, scenario, result)
            except Exception as error:  # the loop itself raised, or the simulation has a bug
                where = traceback.extract_tb(error.__traceback__)[-1]
                result.violations.append(f"raised {type(error).__name__}: {error} ({where.filename}:{where.lineno})")
            self._check_end(world, result)
            world.close()
            result.violations += world.violations
            # Worked out here, where what the site logs on purpose is collected, and kept for the checks
            # below: the cache may drop any of them while the others are worked out.
            references = {
                ident: [self.reference(world.limits, request) for request in script.requests]
                for ident, script in enumerate(scenario.peers, 1)
            }
        for record in logs.records:
            failure = record.exc_info[1] if record.exc_info else None
            if not isinstance(failure, SimAppError):
                result.violations.append(f"logged {record.levelname} {record.name}: {record.getMessage()}")
        if _open_descriptors() != descriptors:
            result.violations.append(f"descriptors: {descriptors} open before the run, {_open_descriptors()} after")
        for connection in world.connections:
            peer = connection.peer
            answered, wrong = check_answers(
                peer,
                connection.transport.close_reason,
                references[peer.ident],
                clock_chaos=scenario.clock_chaos > 0,
                shut_down=world.shut_down,
            )
            result.requests += len(references[peer.ident])
            result.responses += answered
            result.violations += wrong
        result.closes = dict(world.counters.closes)
        digest = hashlib.sha256()
        for connection in world.connections:
            digest.update(bytes(connection.peer.received) + b"\0" + connection.transport.close_reason.encode() + b"\0")
        result.transcript = digest.hexdigest()
        return result

    # -- driving ----------------------------------------------------------------------------------

    def _describe(self, world: World, scenario: Scenario) -> None:
        limits, faults = scenario.limits, scenario.faults
        world.say(
            "sim",
            "limits",
            f"high_water={limits.high_water} recv_size={limits.recv_size} max_head={limits.max_head} "
            f"max_body={limits.max_body} max_discard={limits.max_discard}",
        )
        world.say(
            "sim",
            "network",
            f"max_recv={faults.max_recv} eagain={faults.eagain} short={faults.short} capacity={faults.capacity} "
            f"clock_chaos={scenario.clock_chaos}",
        )
        for ident, script in enumerate(scenario.peers, 1):
            world.say(
                f"peer{ident}",
                "script",
                f"pipelined={script.pipelined} stall_at={script.stall_at} half_close={script.half_close} "
                f"reset_at_step={script.reset_at_step} stop_reading_at={script.stop_reading_at} "
                f"start_step={script.start_step} early={script.early} max_send={script.max_send} "
                f"max_read={script.max_read}",
            )
            for request in script.requests:
                world.say(f"peer{ident}", "request", f"{request.label} bytes={len(request.data)}")

    def _drive(self, world: World, scenario: Scenario, result: Result) -> None:
        rng = world.rng
        waiting = list(enumerate(scenario.peers, 1))
        forced = 0
        for step in range(MAX_STEPS):
            result.steps = step + 1
            if step == scenario.shutdown_at_step:
                world.say("sim", "shutdown", "idle connections close, busy ones after their response")
                world.shutdown()
                waiting.clear()  # the listeners are closed: later clients are never accepted
                self._check_step(world, result)
            while waiting and waiting[0][1].start_step <= step:
                ident, script = waiting.pop(0)
                world.say(f"peer{ident}", "connect")
                world.connect(ident, script)
                self._check_step(world, result)
            now = world.clock()
            actions: list[tuple[str, Connection]] = []
            for connection in world.connections:
                peer = connection.peer
                if peer.can_reset(step):
                    actions.append(("reset", connection))
                if peer.can_send(now):
                    actions += [("send", connection)] * 3
                if peer.can_read():
                    actions += [("read", connection)] * 3
                if peer.can_half_close():
                    actions.append(("half-close", connection))
            if actions and rng.random() < scenario.clock_chaos:
                self._jump(world, rng.choice((rng.uniform(0.0, 2.0), None)), "chaos")
            elif actions:
                kind, connection = rng.choice(actions)
                self._act(world, kind, connection.peer, step)
            elif not world.quiet():
                pass  # something is ready: the loop runs it
            elif waiting:
                continue
            elif not world.open_connections():
                if all(connection.peer.done for connection in world.connections):
                    return
            else:
                forced += 1
                if forced > MAX_FORCED_JUMPS:
                    result.violations.append(f"no progress: {MAX_FORCED_JUMPS} timer jumps left connections open")
                    return
                if world.loop.select_timeout() is None:
                    states = ", ".join(repr(c.transport) for c in world.open_connections())
                    result.violations.append(f"stuck at step {step}: open connections with no timer: {states}")
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

    def _act(self, world: World, kind: str, peer: Peer, step: int) -> None:
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
        """After every step: the queue bound, and interest follows state."""
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
            sock = cast(SimSocket, transport.sock)
            wanted = (EVENT_READ if state in _READS else 0) | (
                EVENT_WRITE if state in _WRITES and transport.queued else 0
            )
            registered = world.selector.events_of(sock)
            if registered != wanted:
                result.violations.append(f"{transport!r}: registered for {registered}, its state wants {wanted}")
        if len(result.violations) > 20:
            raise RuntimeError("too many violations")

    def _check_end(self, world: World, result: Result) -> None:
        """After the last step: nothing outlives its connection."""
        for _ in range(3):
            world.loop.run_once()  # callbacks scheduled by the last closes run (and do nothing)
        for connection in world.open_connections():
            result.violations.append(f"{connection.transport!r} still open at the end")
        wakeup_only = 1
        if len(world.selector.get_map()) != wakeup_only:
            result.violations.append(f"selector still watches {len(world.selector.get_map()) - 1} socket(s)")
        if world.loop.select_timeout() is not None:
            result.violations.append(f"a timer or callback outlives the connections: {world.loop.statistics()}")
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
        """What ``request`` alone gets on a clean network with no time passing: sent whole, read whole."""
        key = (limits, request.data)
        known = self._references.get(key)
        if known is None:
            with mock.patch.object(files, "secrets", _FixedBoundary):
                known = self._references[key] = self._reference(limits, request)
            self._reference_bytes += len(known.response)
            while self._reference_bytes > REFERENCE_BYTES:
                oldest = next(iter(self._references))
                self._reference_bytes -= len(self._references.pop(oldest).response)
        return known

    def _reference(self, limits: Limits, request: SimRequest) -> Reference:
        rng = random.Random(0)
        world = World(self.root, limits, Faults.clean(), rng, FakeClock(), None)
        script = PeerScript((request,), True, None, False, None, None, 0, 1 << 30, 1 << 30, early=False)
        connection = world.connect(1, script)
        peer = connection.peer
        for _ in range(1000):
            if peer.can_send(world.clock()):
                peer.sent = len(peer.stream)
                peer.sock.inbound += peer.stream
            if peer.can_read():
                peer.read()
            elif world.quiet():
                break
            world.loop.run_once()
        data = bytes(peer.received)
        while data.startswith(INTERIM_CONTINUE):
            data = data[len(INTERIM_CONTINUE) :]
        closes = connection.transport.closing
        world.close()
        return Reference(data, closes, check_reference(request, data, closes) if data else "no answer")
