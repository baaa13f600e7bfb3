"""``python -m reactor``: serve a directory, with the flags and defaults of ``python -m http.server``.

This module is the composition root: it puts the server's flags (reactor/arguments.py) and the handler's
(handlers/flags.py) on one parser, binds the socket, and runs one reactor, or a supervisor forking
``--workers`` of them. Each reactor builds its loop, its handler and its server, installs the signal
handlers and runs the loop until a signal has drained it.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import socket
import ssl
import sys
import threading
import webbrowser
from collections.abc import Callable
from functools import partial

from handlers.auth.basic import BasicAuth
from handlers.auth.passwd import PasswordHash
from handlers.flags import (
    Built,
    add_handler_arguments,
    auth_users,
    handler_factory,
    handler_limits,
    startup_notes,
    startup_warnings,
)
from handlers.redirect import RedirectToHTTPS
from handlers.status.statuspage import StatusPage
from reactor.accesslog import AccessLog
from reactor.addresses import url_host, urls
from reactor.arguments import PROG, Parser, add_server_arguments, limits_from_args, normalize_argv
from reactor.limits import Limits, default_max_connections, descriptor_limit
from reactor.loop.eventloop import SELECT_MAX_FD, EventLoop, make_selector
from reactor.net.listener import bind, reserve
from reactor.net.tls import load_context
from reactor.server import Server
from reactor.supervisor import StatisticsBoard, Supervisor, shares_port_by_reuseport, watch_supervisor
from reactor.trace.tracer import Tracer
from reactor.trace.tracering import TraceRing


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Serve the files of a directory (or a WSGI application) over HTTP/1.1.")
    add_server_arguments(parser)
    add_handler_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(normalize_argv(sys.argv[1:] if argv is None else argv))
    directory = os.path.abspath(args.directory or os.curdir)
    if not os.path.isdir(directory):
        parser.error(f"directory {args.directory!r} does not exist or is not a directory")
    try:
        build = handler_factory(args, directory)
        users = auth_users(args)
    except ValueError as error:
        parser.error(str(error))
    limits = handler_limits(args, limits_from_args(args))
    tls = _tls_context(parser, args)
    try:
        make_selector(args.selector).close()
    except ValueError as error:
        parser.error(str(error))
    if args.selector == "select":
        # select() cannot watch descriptor 1024 or above.
        select_cap = default_max_connections(SELECT_MAX_FD)
        limits = dataclasses.replace(limits, max_connections=min(limits.max_connections, select_cap))
    reuse_port = args.workers > 1 and shares_port_by_reuseport()
    try:
        # With SO_REUSEPORT each worker listens on its own socket; the supervisor only holds the port.
        sock = reserve(args.bind, args.port) if reuse_port else bind(args.bind, args.port, limits.listen_backlog)
    except socket.gaierror as error:
        parser.error(f"cannot resolve address {args.bind!r}: {error.strerror}")
    except OSError as error:
        where = f"{args.bind or 'all addresses'} port {args.port}"
        parser.error(f"cannot listen on {where}: {error.strerror}")
    redirect_sock = None
    if args.redirect_http is not None:
        try:
            redirect_sock = bind(args.bind, args.redirect_http, limits.listen_backlog)
        except OSError as error:
            where = f"{args.bind or 'all addresses'} port {args.redirect_http}"
            parser.error(f"--redirect-http: cannot listen on {where}: {error.strerror}")

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    descriptors = descriptor_limit()
    served = default_max_connections(descriptors)
    if limits.max_connections > served:
        # nginx warns the same way ("worker_connections exceed open file resource limit").
        logging.warning(
            "--max-connections %d: RLIMIT_NOFILE (%d descriptors) serves about %d; accept will pause on EMFILE",
            limits.max_connections,
            descriptors,
            served,
        )
    host, port = sock.getsockname()[:2]
    for warning in startup_warnings(args, host):
        logging.warning("%s", warning)
    scheme = "https" if tls is not None else "http"
    print(f"Serving {scheme.upper()} on {host} port {port} ({scheme}://{url_host(host)}:{port}/) ...")
    local, others = urls(scheme, sock)
    if others:  # listening on every address: where to open it here, and from a phone on the network
        print(f"  this machine: {local}")
        print(f"  the network:  {'  '.join(others)}")
    for note in startup_notes(args, limits):
        print(note)
    sys.stdout.flush()
    opener = partial(_open_browser, local) if args.open else None
    if redirect_sock is not None:
        logging.info("redirecting plain HTTP on port %d to https port %d", redirect_sock.getsockname()[1], port)
    listening = Listening(tls, redirect_sock)
    if args.workers == 1:
        if opener is not None:
            opener()
        return serve(args, build, users, limits, sock, listening)

    # The workers' status pages show the whole server from the numbers each leaves here.
    board = StatisticsBoard(args.workers) if args.status_path else None

    def run_worker(number: int, lifeline: int) -> int:
        worker = Worker(number, lifeline, board)
        if reuse_port:
            sock.close()
            listener = bind(host, port, limits.listen_backlog, reuse_port=True)
            return serve(args, build, users, limits, listener, listening, worker)
        return serve(args, build, users, limits, sock, listening, worker)

    return Supervisor(args.workers, run_worker, limits.grace).run(started=opener)


def _open_browser(url: str) -> None:
    """Open ``url`` in the default browser, on a thread of its own: webbrowser may wait seconds for
    a browser to start, or until a console one exits, and meanwhile the server must answer it."""
    threading.Thread(target=webbrowser.open, args=(url,), name="open-browser", daemon=True).start()


def _tls_context(parser: argparse.ArgumentParser, args: argparse.Namespace) -> ssl.SSLContext | None:
    """The HTTPS context the flags ask for, or None; a bad file is one line and exit code 2, before
    anything listens."""
    if args.tls_cert is None:
        for flag, value in (("--tls-key", args.tls_key), ("--tls-password-file", args.tls_password_file)):
            if value is not None:
                parser.error(f"{flag} needs --tls-cert")
        if args.redirect_http is not None:
            parser.error("--redirect-http needs --tls-cert: it redirects to the HTTPS port")
        return None
    try:
        return load_context(args.tls_cert, args.tls_key, args.tls_password_file)
    except ValueError as error:
        parser.error(str(error))


@dataclasses.dataclass(frozen=True)
class Listening:
    """What every reactor serves besides the main port's plain HTTP: HTTPS on it, a redirecting port."""

    tls: ssl.SSLContext | None = None
    redirect_sock: socket.socket | None = None


@dataclasses.dataclass(frozen=True)
class Worker:
    """What a reactor forked by the supervisor has that a lone one has not."""

    number: int  # 1 to --workers
    lifeline: int  # the pipe that tells it the supervisor is gone (reactor.supervisor.watch_supervisor)
    board: StatisticsBoard | None  # where its status page leaves its numbers, with --status-path


def serve(
    args: argparse.Namespace,
    build: Callable[[EventLoop], Built],
    users: dict[str, PasswordHash] | None,
    limits: Limits,
    sock: socket.socket,
    listening: Listening,
    worker: Worker | None = None,
) -> int:
    """Run one reactor on ``sock`` until SIGTERM/SIGINT has drained it; return the exit code. A
    ``worker`` drains on SIGTERM, or when its supervisor is gone; it leaves SIGINT ignored. With
    ``users`` every request must carry one's password, the status page's included."""
    tracer: Tracer | None = None
    # The status page's timeline keeps the last seconds of a full trace in memory (and --trace still
    # prints what it asks for).
    ring = None
    if args.status_path:
        scope = args.trace or "all"
        forward = sys.stderr if args.trace else None
        tracer = ring = TraceRing(forward=forward, loop=scope in ("all", "loop"), connections=scope in ("all", "conn"))
    elif args.trace:
        tracer = Tracer(sys.stderr, loop=args.trace in ("all", "loop"), connections=args.trace in ("all", "conn"))
    loop = EventLoop(selector=make_selector(args.selector), tracer=tracer)
    handler, close_handler, handler_counters = build(loop)
    status_page = None
    if args.status_path:
        handler = status_page = StatusPage(args.status_path, handler, ring)
    auth = None
    if users is not None:
        handler = auth = BasicAuth(users, handler)
    # Under --trace each line is written at once, among the trace lines, not in a batch a second later.
    access_log = None if args.quiet else AccessLog(sys.stderr, batched=not args.trace)
    if access_log is not None:
        access_log.flush_on(loop)
    # A request refused for its size is told how the server's operator lifts the limit.
    advice = {413: "--max-body raises it"}
    server = Server(loop, [sock], handler, limits, access_log, tracer, args.protocol, tls=listening.tls, advice=advice)
    servers = [server]
    if listening.redirect_sock is not None:
        https_port = sock.getsockname()[1]
        redirect = RedirectToHTTPS(https_port)
        servers.append(
            Server(loop, [listening.redirect_sock], redirect, limits, access_log, tracer, args.protocol, advice=advice)
        )
    if status_page is not None:
        status_page.watch(
            loop,
            server.statistics,
            handler_counters=[handler_counters, *([auth.counters] if auth is not None else [])],
            board=worker.board if worker is not None else None,
            worker=worker.number if worker is not None else 0,
        )
    for each in servers:
        each.start()
    stopping: list[str] = []
    running = len(servers)

    def stopped() -> None:
        nonlocal running
        running -= 1
        if not running:
            loop.stop()

    def stop(why: str) -> None:
        if stopping:
            logging.warning("%s again: closing every connection now", why)
            for each in servers:
                each.close()
            loop.stop()
            return
        stopping.append(why)
        logging.info("%s: finishing responses in flight, then exiting", why)
        for each in servers:
            each.shutdown(on_stopped=stopped)

    for signum in (signal.SIGTERM,) if worker is not None else (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, f"{signal.Signals(signum).name} received")
    if worker is not None:
        watch_supervisor(loop, worker.lifeline, partial(stop, f"the supervisor (pid {os.getppid()}) is gone"))
    try:
        loop.run_forever()
    finally:
        for each in servers:
            each.close()
        close_handler()  # before the loop: what the handler registered with it (a tree watch) leaves it first
        loop.close()
        if auth is not None:
            auth.close()
        if access_log is not None:
            access_log.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
