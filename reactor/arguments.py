"""The server's command-line flags: where to listen, how many processes, every limit and timeout.

Flags about what answers requests (static files, WSGI) live in handlers/flags.py; reactor/__main__.py
puts both on one parser. Every bad value is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Callable
from typing import NoReturn

from reactor import __version__
from reactor.http.writer import HTTP_VERSIONS
from reactor.limits import Limits
from reactor.loop.eventloop import SELECTORS
from reactor.net.listener import check_port
from reactor.supervisor import parse_worker_count

PROG = "python -m reactor"


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One clear line and exit code 2, instead of argparse's usage block."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def port_number(text: str) -> int:
    """A port argument (the examples' too). Raises ArgumentTypeError for anything but 0 to 65535."""
    try:
        port = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: not a number") from None
    try:
        return check_port(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: must be between 0 and 65535") from None


def _workers(text: str) -> int:
    try:
        return parse_worker_count(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid worker count {text!r}: a positive number or 'auto'") from None


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
    ("--handshake-timeout", "handshake_timeout", _timeout, "SECONDS", "time to complete a TLS handshake (--tls-cert)"),
    (
        "--proxy-timeout",
        "proxy_timeout",
        _timeout,
        "SECONDS",
        "time to connect to a --proxy backend, for its response head, and between two of its reads or sends",
    ),
    ("--max-body", "max_body", _size, "BYTES", "largest request body accepted (larger: 413)"),
    ("--max-connections", "max_connections", _count, "N", "connections held at once; more wait in the listen backlog"),
    ("--grace", "grace", _duration, "SECONDS", "on SIGTERM/SIGINT, time left for responses in flight"),
)


def _show(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _protocol(text: str) -> str:
    version = text.upper()
    if version not in HTTP_VERSIONS:
        raise argparse.ArgumentTypeError(f"invalid protocol {text!r}: want {' or '.join(HTTP_VERSIONS)}")
    return version


def _status_path(text: str) -> str:
    if _STATUS_PATH.fullmatch(text) is None:
        raise argparse.ArgumentTypeError(f"invalid status path {text!r}: want a path such as /-/status")
    return text


_STATUS_PATH = re.compile(r"(?:/[A-Za-z0-9\-._~]+)+", re.ASCII)


TRACE_SCOPES = ("all", "conn", "loop")


def normalize_argv(argv: list[str]) -> list[str]:
    """``--trace conn`` means ``--trace=conn``, and a bare ``--trace`` means ``--trace=all``. Spelled
    out here because argparse would otherwise take the next word, often the port (``--trace 8080``),
    as the trace's value."""
    normalized: list[str] = []
    after_trace = False
    for arg in argv:
        if after_trace and arg in TRACE_SCOPES:
            normalized[-1] = f"--trace={arg}"
        else:
            normalized.append("--trace=all" if arg == "--trace" else arg)
        after_trace = arg == "--trace"
    return normalized


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags and defaults of ``python -m http.server`` (port, -b, -d), then ours."""
    parser.add_argument("port", nargs="?", type=port_number, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "-b",
        "--bind",
        metavar="ADDRESS",
        help="address to listen on: IPv4, IPv6 or a host name (default: all addresses, IPv4 and IPv6)",
    )
    parser.add_argument("-d", "--directory", help="directory to serve (default: the current directory)")
    parser.add_argument(
        "-p",
        "--protocol",
        type=_protocol,
        default="HTTP/1.1",
        metavar="VERSION",
        help="the HTTP version to answer as: HTTP/1.1, or HTTP/1.0 to close after each response unless the "
        "client asks for keep-alive (default: HTTP/1.1)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print an access log line per request")
    parser.add_argument("--open", action="store_true", help="open the default browser at the server once it listens")
    parser.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="processes sharing the port, each a single-threaded reactor; 'auto' = one per CPU (default: 1)",
    )
    https = parser.add_argument_group("HTTPS (the flags of python -m http.server 3.14; README.md, HTTPS)")
    https.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this PEM certificate chain")
    https.add_argument("--tls-key", metavar="FILE", help="its private key (default: the key in --tls-cert)")
    https.add_argument("--tls-password-file", metavar="FILE", help="a file whose first line decrypts the key")
    https.add_argument(
        "--redirect-http",
        type=port_number,
        metavar="PORT",
        help="also listen for plain HTTP on PORT, answering every request with 308 to the https URL",
    )
    seeing = parser.add_argument_group("seeing the reactor work (docs/architecture.md)")
    seeing.add_argument(
        "--trace",
        choices=TRACE_SCOPES,
        metavar="[=conn|=loop]",
        help="print each loop iteration and each connection's life on stderr; --trace=conn or --trace=loop "
        "(or --trace conn, --trace loop) shows only one of them",
    )
    seeing.add_argument(
        "--status-path",
        type=_status_path,
        metavar="/PATH",
        help="serve a live status page at PATH, its numbers as JSON at PATH.json and for Prometheus at "
        "PATH/metrics (default: off)",
    )
    seeing.add_argument(
        "--selector",
        choices=tuple(SELECTORS),
        default="auto",
        help="the readiness mechanism under the loop (default: auto, the best the platform has)",
    )
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
