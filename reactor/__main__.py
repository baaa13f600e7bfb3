"""``python -m reactor``: serve a directory, with the flags and defaults of ``python -m http.server``.

This module is the composition root: it parses the command line, binds the socket, builds the loop,
the handler (the directory's files, or a WSGI application with static mounts beside it) and the
server, installs the signal handlers and runs the loop.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import socket
import sys
from typing import NoReturn, cast

from handlers.router import PrefixRouter, normalize_prefix
from handlers.static import StaticFiles
from handlers.wsgi import WSGIApplication, WSGIGateway
from reactor.accesslog import AccessLog
from reactor.exchange import Handler
from reactor.limits import Limits
from reactor.listener import bind
from reactor.loop import EventLoop
from reactor.server import Server

PROG = "python -m reactor"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One clear line and exit code 2, instead of argparse's usage block."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def _port(text: str) -> int:
    try:
        port = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: not a number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: must be between 0 and 65535")
    return port


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Serve the files of a directory over HTTP/1.1.")
    parser.add_argument("port", nargs="?", type=_port, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument(
        "-b",
        "--bind",
        metavar="ADDRESS",
        help="address to listen on: IPv4, IPv6 or a host name (default: all addresses, IPv4 and IPv6)",
    )
    parser.add_argument(
        "-d", "--directory", default=os.getcwd(), help="directory to serve (default: the current directory)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print an access log line per request")
    parser.add_argument(
        "--grace",
        type=_positive,
        default=Limits.grace,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long responses in flight may take to finish (default: %(default)s)",
    )
    _add_application_arguments(parser)
    return parser


# -- applications: a WSGI app and static mounts (handlers.wsgi, handlers.router) ---------------------


def _threads(text: str) -> int:
    try:
        threads = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid thread count {text!r}: not a number") from None
    if threads < 0:
        raise argparse.ArgumentTypeError(f"invalid thread count {text!r}: must be zero or more")
    return threads


def _add_application_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("applications")
    group.add_argument(
        "--wsgi",
        metavar="MODULE:APP",
        help="serve this WSGI application instead of the directory (APP defaults to 'application')",
    )
    group.add_argument(
        "--threads",
        type=_threads,
        metavar="N",
        help="worker threads for the WSGI application (default: 4; 0 runs it on the loop thread, for study)",
    )
    group.add_argument(
        "--static",
        action="append",
        default=[],
        metavar="PREFIX=DIR",
        help="also serve the files of DIR under the URL path PREFIX, e.g. /static=./public (repeatable)",
    )


def _load_wsgi_app(spec: str, parser: argparse.ArgumentParser) -> WSGIApplication:
    """Import ``module:attribute`` as gunicorn does, from the current directory first."""
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        parser.error(f"invalid --wsgi {spec!r}: want MODULE:APP, e.g. myapp:app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: object = importlib.import_module(module_name)
    except ImportError as error:
        parser.error(f"cannot import {module_name!r}: {error}")
    except Exception as error:
        parser.error(f"importing {module_name!r} failed: {type(error).__name__}: {error}")
    for name in (attribute or "application").split("."):
        try:
            target = getattr(target, name)
        except AttributeError:
            parser.error(f"module {module_name!r} has no attribute {attribute or 'application'!r}")
    if not callable(target):
        parser.error(f"{spec!r} is not callable: a WSGI application is called with (environ, start_response)")
    return cast(WSGIApplication, target)


def _build_handler(
    args: argparse.Namespace, directory: str, parser: argparse.ArgumentParser
) -> tuple[Handler, WSGIGateway | None]:
    """The directory's files, or the WSGI application, with the --static mounts in front; and the
    gateway, whose threads main() stops at exit."""
    if args.threads is not None and not args.wsgi:
        parser.error("--threads applies to a WSGI application: add --wsgi MODULE:APP")
    handler: Handler
    gateway = None
    if args.wsgi:
        threads = 4 if args.threads is None else args.threads
        handler = gateway = WSGIGateway(_load_wsgi_app(args.wsgi, parser), threads)
    else:
        handler = StaticFiles(directory)
    mounts: list[tuple[str, Handler]] = []
    for mount in args.static:
        prefix, equals, folder = mount.partition("=")
        try:
            prefix = normalize_prefix(prefix)
        except ValueError as error:
            parser.error(f"--static {mount!r}: {error}")
        if not equals or not os.path.isdir(folder):
            parser.error(f"--static {mount!r}: want PREFIX=DIR with an existing directory")
        mounts.append((prefix, StaticFiles(folder, mount=prefix)))
    return (PrefixRouter(mounts, handler) if mounts else handler), gateway


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    directory = os.path.abspath(args.directory)
    if not os.path.isdir(directory):
        parser.error(f"directory {args.directory!r} does not exist or is not a directory")
    handler, gateway = _build_handler(args, directory, parser)
    limits = Limits(grace=args.grace)
    try:
        sock = bind(args.bind, args.port, limits.listen_backlog)
    except socket.gaierror as error:
        parser.error(f"cannot resolve address {args.bind!r}: {error.strerror}")
    except OSError as error:
        where = f"{args.bind or 'all addresses'} port {args.port}"
        parser.error(f"cannot listen on {where}: {error.strerror}")

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    loop = EventLoop()
    access_log = None if args.quiet else AccessLog(sys.stderr)
    server = Server(loop, [sock], handler, limits, access_log)
    server.start()

    host, port = sock.getsockname()[:2]
    print(f"Serving HTTP on {host} port {port} (http://{_url_host(host)}:{port}/) ...", flush=True)

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        if server_stopping:
            print(f"{name} again: closing every connection now", file=sys.stderr, flush=True)
            server.close()
            loop.stop()
            return
        server_stopping.append(signum)
        print(f"{name} received: finishing responses in flight, then exiting", file=sys.stderr, flush=True)
        server.shutdown(on_stopped=loop.stop)

    server_stopping: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()
        if gateway is not None:
            gateway.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
