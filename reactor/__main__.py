"""``python -m reactor``: serve a directory, with the flags and defaults of ``python -m http.server``.

This module is the composition root: it parses the command line, binds the socket, builds the loop,
the static-files handler and the server, installs the signal handlers and runs the loop.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import Callable
from typing import NoReturn

from handlers.options import StaticOptions
from handlers.static import StaticFiles
from reactor.accesslog import AccessLog
from reactor.exchange import Handler
from reactor.limits import Limits, descriptor_limit
from reactor.listener import bind, reserve
from reactor.loop import EventLoop
from reactor.server import Server
from reactor.workers import Supervisor, parse_worker_count, shares_port_by_reuseport

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


# -- limits and timeouts: each flag sets one field of reactor.limits.Limits (docs/limits.md) ---------

_SECONDS = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ms|s|m|h)?", re.ASCII)
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZE = re.compile(r"([0-9]+)([kKmMgG]?)", re.ASCII)
_BYTES_PER_UNIT = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def _duration(text: str) -> float:
    """Seconds, as nginx writes them: ``75``, ``2.5``, ``500ms``, ``30s``, ``1m``, ``1h``. ASCII digits
    only: float() would also take "1_0", "inf" or non-ASCII digits."""
    match = _SECONDS.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (seconds, or with a unit: 500ms, 30s, 1m)")
    return float(match.group(1)) * _SECONDS_PER_UNIT[match.group(2) or "s"]


def _timeout(text: str) -> float:
    seconds = _duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than zero")
    return seconds


def _size(text: str) -> int:
    """Bytes, as nginx writes sizes: ``1048576``, ``64k``, ``1m``, ``1g``."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (bytes, or with a unit: 64k, 1m, 1g)")
    return int(match.group(1)) * _BYTES_PER_UNIT[match.group(2).lower()]


def _count(text: str) -> int:
    if _DIGITS.fullmatch(text) is None or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


# (flag, Limits field, parser of the value, metavar, help)
LIMIT_FLAGS: tuple[tuple[str, str, Callable[[str], object], str, str], ...] = (
    ("--header-timeout", "header_timeout", _timeout, "SECONDS", "time to receive a whole request head (slowloris)"),
    ("--keepalive-timeout", "keepalive_timeout", _timeout, "SECONDS", "idle time allowed between two requests"),
    ("--body-timeout", "body_timeout", _timeout, "SECONDS", "time allowed between two reads of a request body"),
    ("--send-timeout", "send_timeout", _timeout, "SECONDS", "time allowed between two sends that move data"),
    ("--max-body", "max_body", _size, "BYTES", "largest request body accepted (larger: 413)"),
    ("--max-connections", "max_connections", _count, "N", "connections held at once; more wait in the listen backlog"),
    ("--grace", "grace", _duration, "SECONDS", "on SIGTERM/SIGINT, time left for responses in flight"),
)


def _show(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _add_limit_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("limits and timeouts (see docs/limits.md)")
    defaults = Limits()
    for flag, field, parse, metavar, text in LIMIT_FLAGS:
        group.add_argument(
            flag, type=parse, dest=field, metavar=metavar, help=f"{text} (default: {_show(getattr(defaults, field))})"
        )


def limits_from_args(args: argparse.Namespace) -> Limits:
    """The default Limits with every limit flag given on the command line applied."""
    given = {field: getattr(args, field) for _, field, *_ in LIMIT_FLAGS if getattr(args, field) is not None}
    return dataclasses.replace(Limits(), **given)


def _workers(text: str) -> int:
    try:
        return parse_worker_count(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid worker count {text!r}: a positive number or 'auto'") from None


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
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="processes sharing the port, each a single-threaded reactor; 'auto' = one per CPU (default: 1)",
    )
    _add_static_options(parser)
    _add_limit_flags(parser)
    return parser


# -- static files: how the folder is served -----------------------------------------------------

# A field value we are willing to send: visible ASCII and spaces, no control characters.
_FIELD_VALUE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?", re.ASCII)
_MEDIA_TYPE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+/[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*;[\x20-\x7e]*)?", re.ASCII)


def _field_value(text: str) -> str:
    if _FIELD_VALUE.fullmatch(text) is None:
        raise argparse.ArgumentTypeError(f"invalid header value {text!r}")
    return text


def _error_page(text: str) -> tuple[int, str]:
    status, equals, path = text.partition("=")
    if not equals or not status.strip().isdigit() or not 400 <= int(status) <= 599:
        raise argparse.ArgumentTypeError(f"invalid error page {text!r}: expected STATUS=/PATH with a 4xx or 5xx status")
    if not path.startswith("/"):
        raise argparse.ArgumentTypeError(f"invalid error page {text!r}: the path must start with /")
    return int(status), path


def _url_path(text: str) -> str:
    if not text.startswith("/"):
        raise argparse.ArgumentTypeError(f"invalid path {text!r}: it must start with /")
    return text


def _mime(text: str) -> tuple[str, str]:
    extension, equals, content_type = text.partition("=")
    extension = extension.strip().lstrip(".")
    if not equals or not extension or "/" in extension or any(char.isspace() for char in extension):
        raise argparse.ArgumentTypeError(f"invalid MIME mapping {text!r}: expected EXT=TYPE, e.g. md=text/markdown")
    if _MEDIA_TYPE.fullmatch(content_type.strip()) is None:
        raise argparse.ArgumentTypeError(f"invalid MIME mapping {text!r}: {content_type!r} is not a media type")
    return extension, content_type.strip()


def _add_static_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("static files")
    group.add_argument("--no-listing", action="store_true", help="answer 403 for directories without an index file")
    group.add_argument("--show-hidden", action="store_true", help="serve and list names starting with a dot")
    group.add_argument(
        "--follow-symlinks", action="store_true", help="follow symlinks even when they lead outside the directory"
    )
    group.add_argument(
        "--cache-control", type=_field_value, metavar="VALUE", help="Cache-Control value for file responses"
    )
    group.add_argument(
        "--error-page",
        type=_error_page,
        action="append",
        default=[],
        metavar="STATUS=/PATH",
        help="serve this file as the body of an error status, e.g. 404=/404.html (repeatable)",
    )
    group.add_argument(
        "--spa", type=_url_path, metavar="/PATH", help="answer unknown paths asking for HTML with this file"
    )
    group.add_argument(
        "--mime",
        type=_mime,
        action="append",
        default=[],
        metavar="EXT=TYPE",
        help="add or override a content type, e.g. md=text/markdown (repeatable)",
    )
    group.add_argument(
        "--cors", action="store_true", help="allow cross-origin requests (Access-Control-Allow-Origin: *)"
    )


def _static_files(args: argparse.Namespace, directory: str, parser: argparse.ArgumentParser) -> StaticFiles:
    options = StaticOptions(
        listing=not args.no_listing,
        show_hidden=args.show_hidden,
        follow_symlinks=args.follow_symlinks,
        cache_control=args.cache_control,
        error_pages=dict(args.error_page),
        spa=args.spa,
        cors=args.cors,
        mime_types=dict(args.mime),
    )
    try:
        return StaticFiles(directory, options)
    except ValueError as error:
        parser.error(str(error))


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    directory = os.path.abspath(args.directory)
    if not os.path.isdir(directory):
        parser.error(f"directory {args.directory!r} does not exist or is not a directory")
    handler = _static_files(args, directory, parser)
    limits = limits_from_args(args)
    reuse_port = args.workers > 1 and shares_port_by_reuseport()
    try:
        # With SO_REUSEPORT each worker listens on its own socket; the supervisor only holds the port.
        sock = reserve(args.bind, args.port) if reuse_port else bind(args.bind, args.port, limits.listen_backlog)
    except socket.gaierror as error:
        parser.error(f"cannot resolve address {args.bind!r}: {error.strerror}")
    except OSError as error:
        where = f"{args.bind or 'all addresses'} port {args.port}"
        parser.error(f"cannot listen on {where}: {error.strerror}")

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if limits.max_connections > Limits().max_connections:
        # nginx warns the same way ("worker_connections exceed open file resource limit").
        logging.warning(
            "--max-connections %d: RLIMIT_NOFILE (%d descriptors) serves about %d; accept will pause on EMFILE",
            limits.max_connections,
            descriptor_limit(),
            Limits().max_connections,
        )
    host, port = sock.getsockname()[:2]
    print(f"Serving HTTP on {host} port {port} (http://{_url_host(host)}:{port}/) ...", flush=True)
    if args.workers == 1:
        return serve(args, handler, limits, sock)

    def run_worker(number: int) -> int:
        if reuse_port:
            sock.close()
            return serve(args, handler, limits, bind(host, port, limits.listen_backlog, reuse_port=True))
        return serve(args, handler, limits, sock)

    return Supervisor(args.workers, run_worker, limits.grace).run()


def serve(args: argparse.Namespace, handler: Handler, limits: Limits, sock: socket.socket) -> int:
    """Run one reactor on ``sock`` until SIGTERM/SIGINT has drained it; return the exit code."""
    loop = EventLoop()
    access_log = None if args.quiet else AccessLog(sys.stderr)
    server = Server(loop, [sock], handler, limits, access_log)
    server.start()
    stopping: list[int] = []

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        if stopping:
            logging.warning("%s again: closing every connection now", name)
            server.close()
            loop.stop()
            return
        stopping.append(signum)
        logging.info("%s received: finishing responses in flight, then exiting", name)
        server.shutdown(on_stopped=loop.stop)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
